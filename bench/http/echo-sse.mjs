// A tools module for `fastermcp serve` whose "echo" logs one message before its result, so every legacy
// call is answered as an SSE stream of three events (priming, log, result): what the shared event store
// (docs/scale-out.md) costs per event is read off against the JSON-answered echo.
export default function register(server) {
  server.tool('echo', { inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] } }, ({ text }, ctx) => {
    ctx.log('info', 'echoing');
    return text;
  });
}
