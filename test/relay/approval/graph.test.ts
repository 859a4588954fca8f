/**
 * The deployment's picture on the approval page (relay/approval/graph.ts): columns by dependency
 * depth, each target's state in words, every name escaped, nothing without a graph.
 */
import { describe, expect, it } from 'vitest';
import { graphSection } from '../../../relay/approval/graph.ts';
import type { PageGraphTarget } from '../../../relay/run/results.ts';
import { expectError, openApproval, postRegister, approvalRequest, register, registerApproval, reportTarget, RUN_INFO } from '../helpers.ts';
import { newRepository, park } from '../park.ts';

/** The columns of a drawn graph: each one's target names, in order. */
function columns(html: string): string[][] {
  const section = /<ol class="graph"[^>]*>([\s\S]*?)<\/ol>/.exec(html)?.[1] ?? '';
  return section.split('<p class="note">Step ').slice(1).map((column) => [...column.matchAll(/<strong>([^<]*)<\/strong>/g)].map((match) => match[1] ?? ''));
}

/** What the page says of one target: its state and what it waits for, as text. */
function targetText(html: string, name: string): string {
  const item = new RegExp(`<li class="target[^"]*"><strong>${name}</strong>([\\s\\S]*?)</li>`).exec(html)?.[1] ?? '';
  return item.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
}

const GRAPH = [
  { name: 'dev', dependsOn: [] },
  { name: 'staging', dependsOn: ['dev'] },
  { name: 'qa', dependsOn: ['dev'] },
  { name: 'prod', dependsOn: ['staging', 'qa'] },
  { name: 'prod-eu', dependsOn: ['dev', 'prod'] },
];

describe('the graph section', () => {
  it('puts each target one column right of its deepest dependency, in the graph’s order', () => {
    const graph: PageGraphTarget[] = GRAPH.map((target) => ({ ...target, state: 'unknown' }));
    expect(columns(graphSection(graph, 'prod'))).toEqual([['dev'], ['staging', 'qa'], ['prod'], ['prod-eu']]);
  });

  it('says every state in words, marks the page’s target and lists what each waits for', () => {
    const states: PageGraphTarget['state'][] = ['succeeded', 'running', 'parked', 'failed', 'rolled-back', 'canceled', 'unknown'];
    const graph = states.map((state, index) => ({ name: `t${index}`, dependsOn: index === 0 ? [] : ['t0'], state }));
    const html = graphSection(graph, 't2');
    expect(states.map((_, index) => targetText(html, `t${index}`))).toEqual([
      'succeeded',
      'running after t0',
      '(this approval) parked, waiting after t0',
      'failed after t0',
      'rolled back after t0',
      'canceled after t0',
      'not started after t0',
    ]);
    expect(html).toContain('<li class="target target-parked this">');
    expect(html).toContain('<li class="target target-failed">');
  });

  it('escapes every name', () => {
    const evil = '<img src=x onerror=alert(1)>"&\'';
    const html = graphSection([{ name: evil, dependsOn: [`${evil}2`], state: 'running' }], evil);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#39;');
    expect(html).toContain('after &lt;img src=x onerror=alert(1)&gt;&quot;&amp;&#39;2');
  });

  it('draws a cycle, a missing dependency and a repeated name without looping', () => {
    const graph: PageGraphTarget[] = [
      { name: 'a', dependsOn: ['c'], state: 'unknown' },
      { name: 'b', dependsOn: ['a', 'nowhere'], state: 'unknown' },
      { name: 'c', dependsOn: ['b'], state: 'unknown' },
      { name: 'a', dependsOn: [], state: 'failed' },
    ];
    const drawn = columns(graphSection(graph, 'x'));
    expect(drawn.flat().sort()).toEqual(['a', 'b', 'c']);
  });

  it('is empty without a graph', () => {
    expect(graphSection(null, 'prod')).toBe('');
    expect(graphSection(undefined, 'prod')).toBe('');
    expect(graphSection([], 'prod')).toBe('');
  });
});

describe('the approval page’s graph', () => {
  it('shows each target’s state from its record and the parks', { timeout: 30_000 }, async () => {
    const gate = await registerApproval({ run: { ...RUN_INFO, graph: GRAPH } });
    const runId = gate.runId;
    await reportTarget({ runId, target: 'dev', attempt: 1, status: 'succeeded' });
    await reportTarget({ runId, target: 'staging', attempt: 1, status: 'rolled-back' });
    await reportTarget({ runId, target: 'qa', attempt: 1, status: 'running' });
    await reportTarget({ runId, target: 'prod', attempt: 1, status: 'running' });
    await park(runId, newRepository(), { job: 'prod#beforeDeployment', gateIds: [gate.gateId] });

    const { html } = await openApproval(gate.approvalUrl);
    expect(html).toContain('<h2 id="deployment">Deployment</h2>');
    expect(columns(html)).toEqual([['dev'], ['staging', 'qa'], ['prod'], ['prod-eu']]);
    expect(targetText(html, 'dev')).toBe('succeeded');
    expect(targetText(html, 'staging')).toBe('rolled back after dev');
    expect(targetText(html, 'qa')).toBe('running after dev');
    expect(targetText(html, 'prod')).toBe('(this approval) parked, waiting after staging, qa');
    expect(targetText(html, 'prod-eu')).toBe('not started after dev, prod');
  });

  it('marks the targets of a parked all-targets job’s pending gates as parked, not the others', async () => {
    const gate = await registerApproval({ run: { ...RUN_INFO, graph: GRAPH } });
    await reportTarget({ runId: gate.runId, target: 'dev', attempt: 1, status: 'succeeded' });
    await park(gate.runId, newRepository(), { job: '*', gateIds: [gate.gateId] });
    const { html } = await openApproval(gate.approvalUrl);
    expect(targetText(html, 'prod')).toMatch(/parked, waiting/);
    expect(targetText(html, 'dev')).toBe('succeeded');
    expect(targetText(html, 'staging')).toBe('not started after dev');
  });

  it('is the latest registration’s, and absent when the action sent none', async () => {
    const gate = await registerApproval();
    expect((await openApproval(gate.approvalUrl)).html).not.toContain('id="deployment"');
    await register({ runId: gate.runId, stepKey: 'later', target: 'prod', run: { ...RUN_INFO, graph: [{ name: 'prod', dependsOn: [] }] } });
    expect(columns((await openApproval(gate.approvalUrl)).html)).toEqual([['prod']]);
    await register({ runId: gate.runId, stepKey: 'latest', target: 'prod', run: { ...RUN_INFO, graph: GRAPH } });
    expect(columns((await openApproval(gate.approvalUrl)).html)).toHaveLength(4);
  });

  const badGraphs: [string, unknown, RegExp][] = [
    ['more than 100 targets', Array.from({ length: 101 }, (_, i) => ({ name: `t${i}`, dependsOn: [] })), /^run\.graph: /],
    ['an empty name', [{ name: '', dependsOn: [] }], /^run\.graph\.0\.name: /],
    ['a field it does not know', [{ name: 'a', dependsOn: [], needs: ['b'] }], /^run\.graph\.0: .*needs/],
    ['dependsOn not a list', [{ name: 'a', dependsOn: 'b' }], /^run\.graph\.0\.dependsOn: /],
  ];
  for (const [label, graph, message] of badGraphs) {
    it(`refuses a graph with ${label}: 400 naming the field`, async () => {
      const error = await expectError(await postRegister(approvalRequest({ run: { ...RUN_INFO, graph } as typeof RUN_INFO })), 400, 'bad_request');
      expect(error.message).toMatch(message);
    });
  }
});
