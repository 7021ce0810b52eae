import type { FleetCheck, Finding } from '../../src/core/types.js';
import { fail, pass, skip, unreadable } from '../../src/core/findings.js';
import { hostsByValue, othersWith, someHosts } from './group.js';

export const productUuidUnique: FleetCheck = {
  kind: 'fleet',
  id: 'fleet.product-uuid-unique',
  title: 'Every host has its own product_uuid',
  area: 'fleet',
  codes: {
    'duplicate': 'another host has the same product_uuid',
    'no-product-uuid': 'the host has no /sys/class/dmi/id/product_uuid',
  },
  why:
    'Kubernetes uses /sys/class/dmi/id/product_uuid to tell nodes apart; VMs cloned from one image often ' +
    'share it, and kubeadm cannot see that from a single host. Duplicates make node identities collide.',
  remediation: 'give the cloned VM a new SMBIOS UUID in the hypervisor (e.g. virsh edit → <uuid>, VMware uuid.bios) and reboot it',
  run(members) {
    const groups = hostsByValue(members, (m) => (m.facts.productUuid.ok ? [m.facts.productUuid.value] : []));
    const out = new Map<string, Finding>();
    for (const m of members) {
      const uuid = m.facts.productUuid;
      if (!uuid.ok) {
        out.set(m.host, uuid.reason === 'missing' ? skip(`this host has no product_uuid (${uuid.detail})`, { code: 'no-product-uuid' }) : unreadable(uuid, 'product_uuid'));
        continue;
      }
      const others = othersWith(groups, uuid.value, m.host);
      out.set(m.host, others.length
        ? fail(`product_uuid ${uuid.value} is also on ${someHosts(others)}`, { evidence: { product_uuid: uuid.value }, code: 'duplicate' })
        : pass(`product_uuid ${uuid.value} is unique among ${members.length} host${members.length === 1 ? '' : 's'}`));
    }
    return out;
  },
};
