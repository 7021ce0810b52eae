export { memoryPressure } from './pressure.js';
