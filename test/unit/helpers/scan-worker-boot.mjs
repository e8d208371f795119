// Starts helpers/scan-worker.ts in a Worker: registers tsx in this thread, then imports the TS entry.
import { register } from 'tsx/esm/api';

register();
await import('./scan-worker.ts');
