// Guided fixes: each names the check it repairs, explains why, and builds the exact commands from the
// host's facts. Nothing runs without --apply; a fix refuses when its check already passes.
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NodeFacts } from '../core/facts.js';
import type { Phase } from '../core/types.js';
import { cidrContains, parseCidr, parseIp } from '../core/cidr.js';
import { FLANNEL_CNI_PLUGINS } from '../profiles/profiles.js';

export interface FixPlan {
  why: string;
  /** Shell commands, shown as they are and run in this order with `set -e`. */
  commands: string[];
  /** Extra text sent with the script but not shown in full (a binary being installed). */
  payload?: string;
  /** Things the fix cannot do on this host, said after it runs. */
  notes: string[];
}

export interface Fix {
  name: string;
  check: string;
  summary: string;
  /** The phase to judge the check in (cni0 compares with subnet.env only once flannel ran). */
  phase(facts: NodeFacts): Phase;
  plan(facts: NodeFacts, options: { from?: string }): FixPlan | { refuse: string };
}

const cni0Phase = (facts: NodeFacts): Phase => (facts.cni.subnetEnv.ok ? 'post' : 'pre');

/** flannel.1's IPv4 address is the network address of the node's flannel subnet (10.244.3.0/32 for 10.244.3.1/24). */
function staleFlannel1(facts: NodeFacts): boolean {
  const link = facts.links.ok ? facts.links.value.find((l) => l.name === 'flannel.1') : undefined;
  const subnet = facts.cni.subnetEnv.ok ? parseCidr(facts.cni.subnetEnv.value.FLANNEL_SUBNET ?? '') : null;
  if (!link || !subnet) return false;
  return link.addresses.some((a) => {
    const ip = a.family === 'inet' ? parseIp(a.address) : null;
    return ip !== null && !cidrContains(subnet, ip);
  });
}

export const cni0Fix: Fix = {
  name: 'cni0',
  check: 'cni.cni0',
  summary: 'delete a cni0 bridge that carries an earlier subnet\'s address (and a stale flannel.1), so they are made again for the node\'s subnet',
  phase: cni0Phase,
  plan(facts) {
    const links = facts.links.ok ? facts.links.value.map((l) => l.name) : [];
    const commands: string[] = [];
    const notes: string[] = [];
    if (links.includes('cni0')) commands.push('ip link set cni0 down', 'ip link delete cni0');
    // Before install (leftovers) flannel.1 goes too; after install only when it carries another subnet:
    // a current flannel.1 holds the routes to the other nodes' pods, and flanneld does not remake them.
    const post = cni0Phase(facts) === 'post';
    if (links.includes('flannel.1') && (!post || staleFlannel1(facts))) {
      commands.push('ip link set flannel.1 down', 'ip link delete flannel.1');
      if (post) notes.push('flannel.1 had another subnet\'s address: restart flannel on this node so it makes flannel.1 and its routes again (kubectl -n kube-flannel delete pod -l app=flannel --field-selector spec.nodeName=NODE)');
    }
    if (!post) commands.push('rm -rf /var/lib/cni/networks/cbr0   # host-local\'s address reservations from the earlier cluster');
    else {
      // host-local's reservations of addresses outside the current subnet belong to the earlier one.
      const subnet = facts.cni.subnetEnv.ok ? parseCidr(facts.cni.subnetEnv.value.FLANNEL_SUBNET ?? '') : null;
      const octets = subnet && subnet.family === 4 && subnet.prefix % 8 === 0 ? subnet.prefix / 8 : 0;
      if (subnet && octets > 0) {
        const keep = `${subnet.text.split('/')[0].split('.').slice(0, octets).join('.')}.*`;
        commands.push(`for f in /var/lib/cni/networks/cbr0/[0-9]*; do case "\${f##*/}" in ${keep}) ;; *) rm -f "$f" ;; esac; done   # reservations outside ${subnet.text}`);
      }
    }
    if (post) notes.push('pods created on this node before the fix keep a network that is gone: delete them so they get new sandboxes');
    return {
      why: 'cni0 keeps the address of an earlier flannel subnet; the bridge plugin refuses to reuse it ("already has an IP address different from"), so every new pod fails. ' +
        'Deleting cni0 lets the bridge plugin make it again with the first address of the current subnet at the next pod.',
      commands,
      notes,
    };
  },
};

export const flannelPluginFix: Fix = {
  name: 'flannel-plugin',
  check: 'cni.flannel-plugin',
  summary: 'install the flannel CNI plugin (and missing base plugins) from a local folder, or make them executable',
  phase: () => 'post',
  plan(facts, { from }) {
    const present = facts.cni.binaries.ok ? facts.cni.binaries.value : [];
    const byName = new Map(present.map((b) => [b.name, b]));
    const dir = facts.cni.binDir;
    const wanted = FLANNEL_CNI_PLUGINS;
    const missing = wanted.filter((p) => !byName.has(p));
    const notExec = wanted.filter((p) => byName.has(p) && !byName.get(p)!.executable);
    const commands: string[] = [];
    const payload: string[] = [];
    if (notExec.length) commands.push(`chmod 755 ${notExec.map((p) => `${dir}/${p}`).join(' ')}`);
    if (missing.length) {
      if (!from) return { refuse: `missing in ${dir}: ${missing.join(', ')}; give --from DIR, a folder on this machine with those plugin binaries (from the flannel-io/cni-plugin and containernetworking/plugins releases)` };
      const unavailable = missing.filter((p) => !existsSync(join(from, p)) || !statSync(join(from, p)).isFile());
      if (unavailable.length) return { refuse: `--from ${from} has no ${unavailable.join(', ')}` };
      commands.push(`mkdir -p ${dir}`);
      for (const p of missing) {
        const data = readFileSync(join(from, p)).toString('base64');
        commands.push(`install ${join(from, p)} (${Math.round(data.length * 0.75 / 1024)} KiB) as ${dir}/${p}, mode 755`);
        payload.push(`base64 -d > ${dir}/.${p}.kubecheck <<'KUBECHECK_EOF'\n${data.replace(/(.{76})/g, '$1\n')}\nKUBECHECK_EOF\nchmod 755 ${dir}/.${p}.kubecheck && mv -f ${dir}/.${p}.kubecheck ${dir}/${p}`);
      }
    }
    return {
      why: `the runtime runs ${dir}/flannel for every pod sandbox; without it (or without the exec bit) pods stay in ContainerCreating.`,
      commands,
      ...(payload.length ? { payload: payload.join('\n') } : {}),
      notes: [],
    };
  },
};

export const swapFix: Fix = {
  name: 'swap',
  check: 'node.swap',
  summary: 'turn swap off now and comment out the swap lines of /etc/fstab',
  phase: () => 'pre',
  plan(facts) {
    const active = facts.swaps.ok && facts.swaps.value.length > 0;
    const fstab = facts.fstabSwap.ok && facts.fstabSwap.value.length > 0;
    return {
      why: 'the kubelet refuses to run with swap on, and an uncommented swap line in /etc/fstab turns it back on at boot.',
      commands: [
        ...(active ? ['swapoff -a'] : []),
        // Written in place (not sed -i's rename) so a bind-mounted or immutable-path fstab works; a backup stays.
        ...(fstab ? ['cp /etc/fstab /etc/fstab.kubecheck.bak', "sed '/^[^#].*[[:space:]]swap[[:space:]]/ s/^/#/' /etc/fstab.kubecheck.bak > /etc/fstab"] : []),
      ],
      notes: [],
    };
  },
};

export const FIXES: readonly Fix[] = [cni0Fix, flannelPluginFix, swapFix];

/** The script that runs on the host: stop at the first failing command; payload lines come in order. */
export function fixScript(plan: FixPlan): string {
  const shown = plan.commands.filter((c) => !c.startsWith('install '));
  return ['set -e', ...shown, ...(plan.payload ? [plan.payload] : [])].join('\n') + '\n';
}
