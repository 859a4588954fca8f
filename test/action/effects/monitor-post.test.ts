import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { SECRET } from './harness.ts';
import { json, rig } from '../../support/status-apis/monitor-rig.ts';

const success = { success: true, mdMessage: 'monitor: `$.result` is `SUCCESS` (GET jenkins.example:8080)', outputs: { status: 'SUCCESS' } };

describe('monitorGate: the verdict, stopping, and what it never shows', () => {
  it('retries the verdict’s post on network errors and 5xx until the relay stores it', async () => {
    const r = rig();
    r.callbacks = [
      () => {
        throw new TypeError('fetch failed');
      },
      json({ error: 'unavailable', message: 'try again' }, 503),
      json({ state: 'succeeded' }),
    ];
    await r.run();
    expect(r.posts).toEqual([success, success, success]);
    // 30 s before the poll, then the backoff between the posts.
    expect(r.h.clock.sleeps).toEqual([30_000, 1_000, 2_000]);
    expect(r.h.story().at(-1)).toBe('[prod] monitor Smoke: success — monitor: `$.result` is `SUCCESS` (GET jenkins.example:8080)');
  });

  it('stops quietly when the gate was decided first (409) or closed (410)', async () => {
    for (const status of [409, 410]) {
      const r = rig();
      r.callbacks = [json({ error: 'conflict', message: 'already decided' }, status)];
      await r.run();
      expect(r.posts).toHaveLength(1);
      expect(r.h.log.lines.filter((line) => line.startsWith('warning'))).toEqual([]);
      expect(r.h.story().at(-1)).toBe(`[prod] monitor Smoke: the gate was decided before its success (HTTP ${status}); nothing more to do`);
    }
  });

  it('hands back the step’s failure, quoting the relay, when the relay refuses the verdict for good', async () => {
    const r = rig();
    r.callbacks = [json({ error: 'bad_request', message: 'outputs.status: must be at most 65536 bytes' }, 400)];
    expect(await r.run()).toBe(
      'monitor Smoke: the relay refused its success (HTTP 400: outputs.status: must be at most 65536 bytes), so the gate was withdrawn; the verdict was: monitor: `$.result` is `SUCCESS` (GET jenkins.example:8080)',
    );
    expect(r.posts).toHaveLength(1);
  });

  it('keeps posting past five failed attempts, at most 60 s apart, warning once, until the relay stores it', async () => {
    const r = rig();
    r.callbacks = [...Array.from({ length: 8 }, () => json({}, 502)), json({}, 503, { 'retry-after': '3600' })];
    expect(await r.run()).toBeNull();
    expect(r.posts).toHaveLength(10);
    expect(r.h.clock.sleeps).toEqual([30_000, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    expect(r.h.log.lines.filter((line) => line.startsWith('warning'))).toEqual([
      'warning: [prod] monitor Smoke: its success could not be posted to the gate yet (5 attempts; HTTP 502: {}); trying again at least once every 1m while the gate waits',
    ]);
    expect(r.h.story().at(-1)).toBe('[prod] monitor Smoke: success — monitor: `$.result` is `SUCCESS` (GET jenkins.example:8080)');
  });

  it('stops posting, quietly, once its signal aborts (the gate’s wait returned)', async () => {
    const r = rig();
    r.callbacks = [
      ...Array.from({ length: 6 }, () => json({}, 502)),
      () => {
        r.controller.abort(new Error('the gate was decided'));
        return json({}, 502);
      },
    ];
    expect(await r.run()).toBeNull();
    expect(r.posts).toHaveLength(7);
    expect(r.h.story().some((line) => line.includes('success —'))).toBe(false);
  });

  it('stops when its signal aborts during the wait between polls, posting nothing', async () => {
    const r = rig();
    let polls = 0;
    r.statuses = [
      () => {
        polls += 1;
        if (polls === 2) r.controller.abort(new Error('the callback wait returned'));
        return json({ result: null });
      },
    ];
    await r.run();
    expect(r.polls).toHaveLength(2);
    expect(r.posts).toEqual([]);
    expect(r.h.log.lines.filter((line) => /warning|error/.test(line))).toEqual([]);
  });

  it('stops when its signal aborts during a status request, posting nothing', async () => {
    const r = rig();
    r.statuses = [
      (request) => {
        r.controller.abort(new Error('step canceled'));
        void request;
        throw new DOMException('This operation was aborted', 'AbortError');
      },
    ];
    await r.run();
    expect(r.polls).toHaveLength(1);
    expect(r.posts).toEqual([]);
  });

  it('never logs the status URL’s path or query, its headers, or a secret in an error', async () => {
    const r = rig({
      uriTemplate: 'https://jenkins.example:8080/job/smoke/api/json?token={{secrets.TOKEN}}',
      headers: [{ key: 'Authorization', value: 'Basic {{secrets.TOKEN}}' }],
    });
    r.statuses = [
      (request) => {
        throw new TypeError(`Failed to parse URL from ${request.url}`);
      },
      json({ result: `echo ${SECRET}` }),
      new Response(`denied for ${SECRET}`, { status: 403 }),
    ];
    await r.run();
    expect(r.polls[0]?.headers).toEqual({ Authorization: `Basic ${SECRET}` });
    const logged = r.h.log.lines.join('\n');
    expect(logged).toContain('GET jenkins.example:8080 failed (Failed to parse URL from jenkins.example:8080); polling on');
    // The recording log is not the real one (which redacts); what the monitor hands it must already be clean of the URL.
    expect(logged).not.toContain('/job/smoke');
    expect(logged).not.toContain('token=');
    expect(logged).not.toContain('Basic');
    expect(r.posts).toEqual([{ success: false, mdMessage: 'monitor: the status request GET jenkins.example:8080 answered HTTP 403: `denied for ***`' }]);
    expect(JSON.stringify(r.posts)).not.toContain(SECRET);
  });

  it('redacts a secret echoed in the status value before posting it', async () => {
    const r = rig({ success: [`ok ${SECRET}`] });
    r.statuses = [json({ result: `ok ${SECRET}` })];
    await r.run();
    expect(r.posts).toEqual([{ success: true, mdMessage: 'monitor: `$.result` is `ok ***` (GET jenkins.example:8080)', outputs: { status: 'ok ***' } }]);
  });

  it('signs each status request as the webhook’s call is, with a message id of its own', async () => {
    const key = `whsec_${Buffer.from('monitor-signing-key-0123456789ab').toString('base64')}`;
    const r = rig({}, { signingSecret: '{{secrets.SIGNING}}' });
    // Receivers refuse a timestamp more than 5 minutes off their own clock.
    r.h.clock.current = Date.now();
    r.h.ctx.settings.secrets.SIGNING = key;
    r.statuses = [json({ result: null }), json({ result: 'SUCCESS' })];
    await r.run();
    const verifier = new Webhook(key);
    const ids = r.polls.map((poll) => {
      verifier.verify('', { 'webhook-id': poll.headers['webhook-id'] ?? '', 'webhook-timestamp': poll.headers['webhook-timestamp'] ?? '', 'webhook-signature': poll.headers['webhook-signature'] ?? '' });
      return poll.headers['webhook-id'];
    });
    expect(new Set(ids).size).toBe(2);
  });

  it('does nothing for a webhook without a monitor', async () => {
    const r = rig({}, { monitor: null });
    await r.run();
    expect(r.polls).toEqual([]);
    expect(r.posts).toEqual([]);
  });
});
