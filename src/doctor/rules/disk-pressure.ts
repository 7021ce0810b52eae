export { diskPressure } from './pressure.js';
