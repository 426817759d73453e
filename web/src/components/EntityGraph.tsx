import { useEffect, useRef, type ReactNode } from 'react';

export interface GraphEvent {
  readonly userId: string;
  readonly deviceId: string | null;
  readonly ip: string | null;
  readonly payeeId: string | null;
}

interface Node {
  readonly id: string;
  readonly label: string;
  readonly kind: 'user' | 'device' | 'ip' | 'payee';
}

/** Users linked through the devices, IPs and payees their events share: the shape a device farm or mule ring has. */
export function graphOf(
  focusUser: string,
  events: readonly GraphEvent[],
): { nodes: Node[]; edges: [string, string][] } {
  const nodes = new Map<string, Node>([
    [`user:${focusUser}`, { id: `user:${focusUser}`, label: focusUser, kind: 'user' }],
  ]);
  const edges = new Set<string>();
  for (const e of events) {
    const user = `user:${e.userId}`;
    nodes.set(user, { id: user, label: e.userId, kind: 'user' });
    for (const [kind, value] of [
      ['device', e.deviceId],
      ['ip', e.ip],
      ['payee', e.payeeId],
    ] as const) {
      if (!value) continue;
      const id = `${kind}:${value}`;
      nodes.set(id, { id, label: value, kind });
      edges.add(`${user}|${id}`);
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges].map((e) => e.split('|') as [string, string]) };
}

const COLOURS = { user: '#1d4ed8', device: '#b45309', ip: '#047857', payee: '#9f1239' } as const;

/** Drawn with Cytoscape, loaded only when a case is opened so the console's first page stays small. */
export function EntityGraph({
  focusUser,
  events,
  label,
}: {
  focusUser: string;
  events: readonly GraphEvent[];
  label: string;
}): ReactNode {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let destroyed = false;
    let destroy = (): void => undefined;
    void import('cytoscape').then(({ default: cytoscape }) => {
      if (destroyed || !host.current) return;
      const { nodes, edges } = graphOf(focusUser, events);
      const cy = cytoscape({
        container: host.current,
        elements: [
          ...nodes.map((n) => ({ data: { id: n.id, label: `${n.kind}: ${n.label}`, kind: n.kind } })),
          ...edges.map(([source, target]) => ({ data: { id: `${source}->${target}`, source, target } })),
        ],
        layout: { name: 'cose', animate: false },
        style: [
          {
            selector: 'node',
            style: {
              label: 'data(label)',
              'font-size': 10,
              'background-color': (n: { data: (k: string) => string }) =>
                COLOURS[n.data('kind') as keyof typeof COLOURS] ?? '#444',
            },
          },
          {
            selector: `node[id = "user:${focusUser}"]`,
            style: { 'border-width': 3, 'border-color': '#111' },
          },
          { selector: 'edge', style: { width: 1, 'line-color': '#999' } },
        ],
      });
      destroy = () => cy.destroy();
    });
    return () => {
      destroyed = true;
      destroy();
    };
  }, [focusUser, events]);
  const { nodes } = graphOf(focusUser, events);
  return (
    <figure>
      <div ref={host} className="graph" role="img" aria-label={label} data-testid="entity-graph" />
      <figcaption>
        {label}: {nodes.length} nodes ({nodes.filter((n) => n.kind === 'user').length} users)
      </figcaption>
    </figure>
  );
}
