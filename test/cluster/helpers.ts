// The CLI helper lives in test/helpers.ts; the cluster tests import it from here as before.
export { kubecheck } from '../helpers.js';
