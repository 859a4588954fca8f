import { app } from './app.ts';

export { RunObject } from './run-object.ts';
export default app;
