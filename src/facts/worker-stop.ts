// The message that ends an extraction worker between files (see WorkerPool.close): terminating a
// worker while it is inside the native parser aborts the whole process.
export const STOP_MESSAGE = 'stop';
