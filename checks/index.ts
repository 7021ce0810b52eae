// The check registry: a static list. Adding a check touches its own file and one line here.
import type { Check } from '../src/core/types.js';
import { clockSkew } from './fleet/clock-skew.js';
import { hostnameUnique } from './fleet/hostname-unique.js';
import { macUnique } from './fleet/mac-unique.js';
import { productUuidUnique } from './fleet/product-uuid-unique.js';
import { certificates } from './node/certificates.js';
import { firewall } from './node/firewall.js';
import { kubelet } from './node/kubelet.js';
import { ports } from './node/ports.js';
import { resources } from './node/resources.js';
import { runtime } from './node/runtime.js';
import { selinux } from './node/selinux.js';
import { swap } from './node/swap.js';
import { sysctl } from './node/sysctl.js';

export const CHECKS: readonly Check[] = [
  swap,
  sysctl,
  ports,
  resources,
  runtime,
  kubelet,
  certificates,
  firewall,
  selinux,
  productUuidUnique,
  macUnique,
  hostnameUnique,
  clockSkew,
];

const byId = new Map(CHECKS.map((c) => [c.id, c]));

export function findCheck(id: string): Check | undefined {
  return byId.get(id);
}
