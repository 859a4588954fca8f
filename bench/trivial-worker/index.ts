/**
 * The bench's yardstick: a Worker that does nothing but read the request body
 * and answer a small JSON, served by the same wrangler dev / workerd as the relay.
 */
export default {
  async fetch(request: Request): Promise<Response> {
    const body = request.method === 'POST' ? await request.text() : '';
    return Response.json({ ok: true, bytes: body.length });
  },
};
