// The doctor's cause catalogue: one module per cause. Adding a cause touches its file and this list.
import type { Rule } from '../evidence.js';
import { bootstrapTokenExpired } from './bootstrap-token-expired.js';
import { bridgeNfDisabled } from './bridge-nf-disabled.js';
import { certificateExpired } from './certificate-expired.js';
import { cgroupDriverMismatch } from './cgroup-driver-mismatch.js';
import { clockSkew } from './clock-skew.js';
import { cni0IpConflict } from './cni0-ip-conflict.js';
import { cniConfigMissing } from './cni-config-missing.js';
import { cniPluginMissing } from './cni-plugin-missing.js';
import { diskPressure } from './disk-pressure.js';
import { flannelSubnetMissing } from './flannel-subnet-missing.js';
import { ipForwardDisabled } from './ip-forward-disabled.js';
import { kubeletDown } from './kubelet-down.js';
import { memoryPressure } from './memory-pressure.js';
import { nodeUnreachable } from './node-unreachable.js';
import { runtimeDown } from './runtime-down.js';
import { swapEnabled } from './swap-enabled.js';

export const RULES: readonly Rule[] = [
  kubeletDown,
  runtimeDown,
  swapEnabled,
  cniPluginMissing,
  cniConfigMissing,
  flannelSubnetMissing,
  cni0IpConflict,
  certificateExpired,
  clockSkew,
  diskPressure,
  memoryPressure,
  ipForwardDisabled,
  bridgeNfDisabled,
  cgroupDriverMismatch,
  nodeUnreachable,
  bootstrapTokenExpired,
];
