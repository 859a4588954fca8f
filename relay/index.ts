import { app } from './worker/app.ts';

export { RunObject } from './run/object.ts';
export { QueueObject } from './queue/object.ts';
export default app;
