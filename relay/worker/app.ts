/** The relay's stateless Worker: authenticates, validates and routes to a run's Durable Object. */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { approvalRoutes } from '../approval/routes.ts';
import { actionRoutes } from './action-routes.ts';
import { callbackRoutes } from './callback-routes.ts';
import { parkRoutes } from './park-routes.ts';
import { queueRoutes } from './queue-routes.ts';
import { githubWebhookRoutes } from './github-webhook.ts';
import type { Health } from '../../shared/park.ts';
import { appSetup } from '../github/app-config.ts';
import { authRoutes } from '../auth/routes.ts';
import { signInSetup } from '../auth/setup.ts';
import type { Env } from './env.ts';

export const app = new Hono<{ Bindings: Env }>();

app.onError((error, c) => {
  if (error instanceof HTTPException) return error.getResponse();
  console.error('relay error', error instanceof Error ? error.message : String(error));
  return c.json({ error: 'internal', message: 'the relay failed to handle this request' }, 500);
});

app.notFound((c) => c.json({ error: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` }, 404));

app.get('/', (c) => c.json({ service: 'hookgate relay' }));
/** 200 either way: the relay works without its GitHub App (parked deployments then resume by hand) and without sign-in. */
app.get('/healthz', (c) => {
  const setup = appSetup(c.env);
  const signIn = signInSetup(c.env);
  const message = signIn.status === 'not configured' ? setup.message : `${setup.message}; ${signIn.message}`;
  return c.json({ ok: true, githubApp: setup.status, signIn: signIn.status, message } satisfies Health);
});

app.route('/', actionRoutes);
app.route('/', parkRoutes);
app.route('/', queueRoutes);
app.route('/approve', approvalRoutes);
app.route('/auth', authRoutes);
app.route('/', githubWebhookRoutes);
app.route('/', callbackRoutes);
