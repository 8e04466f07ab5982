/**
 * The allowed directions between sipwarden's layers (docs/architecture.md, "Layers"), checked by
 * `npm run lint` through scripts/check-dependencies.mjs. Each layer lists what it may import; an
 * import of anything else under src/ is an error, and so is any import cycle.
 *
 *   cli, main.ts, ops ──► sip (adapters) ──► policy ◄── lifecycle ◄── store ◄── notify
 *                                              ▲                        ▲
 *   shared: helpers every layer may use        └──── (pure: no I/O) ────┘
 */

/** A rule that lets files under `src/<layer>/` import only from `src/<allowed>/`. */
function onlyFrom(layer, allowed, comment) {
  return {
    name: `${layer}-imports-only-${allowed.length === 0 ? 'itself' : allowed.join('-')}`,
    comment,
    severity: 'error',
    from: { path: `^src/${layer}/` },
    to: { path: '^src/', pathNot: `^src/(${[layer, ...allowed].join('|')})/` },
  };
}

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle ties files (or layers) that should change apart; break it by moving the shared part down.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'imports-resolve',
      comment: 'An import the checker cannot resolve would escape every rule below.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
    onlyFrom('policy', [], 'The policy core is pure and the base of every layer: it imports nothing of ours.'),
    onlyFrom('config', [], 'Configuration is validated once and handed down: it imports nothing of ours.'),
    onlyFrom('shared', [], 'Shared helpers (ISO time) are used by every layer, so they import nothing of ours.'),
    onlyFrom('lifecycle', ['policy', 'shared'], 'The licence lifecycle rules are pure: they build on the policy window only.'),
    onlyFrom('store', ['lifecycle', 'policy', 'shared'], 'The store implements the policy ports and runs the lifecycle rules; it knows no adapter.'),
    onlyFrom('notify', ['store', 'lifecycle', 'policy', 'shared'], 'Notifications read and write the outbox through the store.'),
    onlyFrom('sip', ['policy', 'shared'], 'The SIP adapters decide through the policy and its ports; the store is wired in by main.ts.'),
    {
      name: 'sip-message-is-the-base',
      comment: 'Parsing and editing SIP messages needs no transport, proxy, enforcement or adapter.',
      severity: 'error',
      from: { path: '^src/sip/message/' },
      to: { path: '^src/sip/', pathNot: '^src/sip/message/' },
    },
    {
      name: 'sip-transports-carry-messages-only',
      comment: 'Transports frame and carry messages; what to do with them is the proxy core\'s.',
      severity: 'error',
      from: { path: '^src/sip/transports/' },
      to: { path: '^src/sip/(proxy|enforcement|drachtio|capture)/' },
    },
    {
      name: 'sip-enforcement-knows-the-gate-only',
      comment: 'Enforcement answers the proxy core through its gate (Verdict); the core is free to change behind it.',
      severity: 'error',
      from: { path: '^src/sip/enforcement/' },
      to: { path: '^src/sip/(proxy/(?!gate\\.ts$)|drachtio/|capture/)' },
    },
    {
      name: 'only-drachtio-loads-drachtio',
      comment: 'The embedded proxy never loads drachtio-srf: only src/sip/drachtio (and the package entry) import it.',
      severity: 'error',
      from: { path: '^src/sip/', pathNot: '^src/sip/drachtio/' },
      to: { path: '^src/sip/drachtio/' },
    },
    {
      name: 'pure-layers-do-no-io',
      comment: 'policy and lifecycle take `now` and ids as parameters: no Node.js module, no package.',
      severity: 'error',
      from: { path: '^src/(policy|lifecycle|shared)/' },
      to: { pathNot: '^src/' },
    },
    {
      name: 'entry-points-are-imported-by-no-layer',
      comment: 'The CLI, the composition root (main.ts) and the package entry (create-sipwarden.ts) sit on top: nothing below imports them.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/(cli/|main\\.ts$|create-sipwarden\\.ts$)' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
