// What the primary and its workers say to each other over the cluster IPC channel. Every message of
// ours has a `type` starting with "fastermcp:"; the channel also carries node's and prom-client's own.
//
//   worker -> primary   fastermcp:ready  { url }          listening; the primary announces the URL once
//                       fastermcp:leaving { requestId }   stopped listening, about to exit; answered once
//                                                          the primary hands it no more connections
//                       <service type>   { requestId, … } a request the primary answers (metrics, audit)
//   primary -> worker   fastermcp:drain                   finish the requests in flight, then exit
//                       fastermcp:reply  { requestId, ok, value | error }

export type WorkerMessage =
  | { type: 'fastermcp:ready'; url: string; requestId?: undefined }
  | { type: `fastermcp:${string}`; requestId?: number; [key: string]: unknown };

export type PrimaryMessage =
  | { type: 'fastermcp:drain' }
  | { type: 'fastermcp:reply'; requestId: number; ok: true; value: unknown }
  | { type: 'fastermcp:reply'; requestId: number; ok: false; error: string };

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('fastermcp:');
}
