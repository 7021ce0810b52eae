import type { NodeCheck } from '../../src/core/types.js';
import { fail, pass, unreadable, warn } from '../../src/core/findings.js';
import { formatKiB } from '../../src/collectors/node/swap.js';

const COMMENT_FSTAB = "sed -i '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/#/' /etc/fstab";

export const swap: NodeCheck = {
  kind: 'node',
  id: 'node.swap',
  title: 'Swap is off',
  area: 'node',
  codes: {
    'swap-on': 'swap is active (/proc/swaps): the kubelet refuses to start',
    'fstab-swap': 'swap is off but an uncommented /etc/fstab line turns it on at boot',
  },
  why:
    'By default the kubelet refuses to start while swap is on ("running with swap on is not supported"), ' +
    'and kubeadm preflight fails. Swap support (NodeSwap, failSwapOn: false) is opt-in and needs cgroup v2.',
  remediation: `swapoff -a && ${COMMENT_FSTAB}`,
  run(facts, ctx) {
    if (!facts.swaps.ok) return unreadable(facts.swaps, '/proc/swaps');
    const evidence = { '/proc/swaps': facts.raw.swaps ?? '' };
    if (facts.swaps.value.length > 0) {
      const devices = facts.swaps.value.map((d) => `${d.device} (${formatKiB(d.sizeKiB)})`).join(', ');
      return fail(`swap is on: ${devices}`, { evidence, code: 'swap-on', remediation: `kubecheck fix swap --node ${ctx.host} --apply   # or by hand:\nswapoff -a && ${COMMENT_FSTAB}` });
    }
    if (facts.fstabSwap.ok && facts.fstabSwap.value.length > 0) {
      return warn(`swap is off, but /etc/fstab turns it on at boot: ${facts.fstabSwap.value.join('; ')}`, {
        evidence: { '/etc/fstab': facts.fstabSwap.value.join('\n') },
        remediation: COMMENT_FSTAB,
        code: 'fstab-swap',
      });
    }
    return pass('no active swap' + (facts.fstabSwap.ok ? ' and none in /etc/fstab' : ''), { evidence });
  },
};
