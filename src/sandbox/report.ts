// Which protections a sandbox process gets on this host, and the one line `fastermcp serve` prints.
import type { HostFeatures } from './launcher/types.js';

export interface SandboxReport {
  host: HostFeatures;
  /** Each protection: on, or off with the reason. */
  protections: Record<string, { active: boolean; note: string }>;
  /** e.g. "sandbox (native launcher): active: seccomp, ...; inactive: bubblewrap (not installed)". */
  line: string;
}

export function hostReport(
  host: HostFeatures,
  used: { networkNamespace: boolean; bubblewrap?: boolean; bubblewrapAsked?: boolean },
): SandboxReport {
  const p: SandboxReport['protections'] = {
    seccomp: host.seccomp
      ? { active: true, note: used.bubblewrap === true ? 'socket/spawn refused, installed by bwrap on node' : 'socket/spawn/foreign kill refused' }
      : { active: false, note: host.launcher === 'js' ? 'the js launcher cannot install a filter' : 'not available' },
    netns: used.networkNamespace
      ? { active: true, note: 'new network namespace per process' }
      : { active: false, note: host.netNamespace ? 'turned off' : host.root ? 'unshare -n fails here' : 'needs root' },
    cgroups: host.cgroupMemory !== null || host.cgroupPids !== null
      ? { active: true, note: [host.cgroupMemory !== null ? 'memory' : '', host.cgroupPids !== null ? 'pids' : ''].filter(Boolean).join('+') }
      : { active: false, note: 'no writable v1 memory/pids controller' },
    permissions: { active: true, note: `node ${host.permissionFlag}` },
    uid_drop: host.root ? { active: true, note: 'runs as nobody' } : { active: false, note: 'the server is not root' },
    no_new_privs: host.noNewPrivs ? { active: true, note: '' } : { active: false, note: 'not available' },
    rlimits: { active: true, note: 'cpu, data, nofile, fsize, core' },
    bubblewrap: used.bubblewrap === true
      ? { active: true, note: 'filesystem view of node, its libraries, runner, module, allow.fs and cwd only; own pid namespace' }
      : {
          active: false,
          note: host.bubblewrap === null ? 'not installed' : used.bubblewrapAsked === false ? 'turned off' : `installed at ${host.bubblewrap} but it cannot run here (user namespaces?)`,
        },
  };
  const on = Object.entries(p).filter(([, v]) => v.active).map(([k, v]) => (v.note === '' ? k : `${k} (${v.note})`));
  const off = Object.entries(p).filter(([, v]) => !v.active).map(([k, v]) => `${k} (${v.note})`);
  const line = `sandbox (${host.launcher} launcher): active: ${on.join(', ')}; inactive: ${off.length === 0 ? 'none' : off.join(', ')}`;
  return { host, protections: p, line };
}
