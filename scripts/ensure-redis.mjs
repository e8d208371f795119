// Make sure `redis-server` is available for the cluster-mode tests (test/helpers/redis-server.ts starts
// its own throwaway server on a free 127.0.0.1 port; nothing here starts or configures one).
//
// 1. `redis-server` on PATH (or FASTERMCP_REDIS_SERVER naming the binary): nothing to do.
// 2. Otherwise, as root on Debian/Ubuntu: `apt-get update -qq` once, then
//    `apt-get install -y -qq --no-install-recommends redis-server`. A temporary
//    /usr/sbin/policy-rc.d (exit 101) keeps the package's maintainer scripts from starting the system
//    service; if a service runs anyway it is stopped and disabled, so the tests' servers are the only ones.
// 3. Anything else (not root, not apt, install failed): a message saying what to install, exit 1.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, unlinkSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';

const log = (msg) => console.log(`ensure-redis: ${msg}`);
const fail = (msg) => {
  console.error(`ensure-redis: ${msg}`);
  console.error(
    'ensure-redis: install Redis (5 or later; tested with 7.0) so that `redis-server` is on PATH (Debian/Ubuntu: ' +
      '`sudo apt-get install redis-server`; macOS: `brew install redis`), or set FASTERMCP_REDIS_SERVER ' +
      'to the binary; the cluster-mode tests start their own server and fail without one.',
  );
  process.exit(1);
};

/** The absolute path of an executable named `name` on PATH, or undefined. */
function which(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

function version(bin) {
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const wanted = process.env.FASTERMCP_REDIS_SERVER || which('redis-server');
if (wanted) {
  const v = version(wanted);
  if (!v) fail(`${wanted} is there but \`${wanted} --version\` failed.`);
  log(`${wanted}: ${v}`);
  process.exit(0);
}

if (process.platform !== 'linux' || !existsSync('/etc/debian_version') || !which('apt-get')) {
  fail('redis-server is not on PATH and this is not a Debian/Ubuntu machine with apt-get.');
}
if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
  fail('redis-server is not on PATH and installing it with apt-get needs root.');
}

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const apt = (args) => {
  log(`apt-get ${args.join(' ')}`);
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env, timeout: 600_000 });
  return r.status === 0;
};

// Keep invoke-rc.d from starting the packaged service (the Debian policy-rc.d interface; 101 = "action
// forbidden"). Leave an existing policy file alone.
const policy = '/usr/sbin/policy-rc.d';
const ownPolicy = !existsSync(policy);
if (ownPolicy) writeFileSync(policy, '#!/bin/sh\n# written by fastermcp scripts/ensure-redis.mjs\nexit 101\n', { mode: 0o755 });
let installed;
try {
  installed = apt(['update', '-qq']) && apt(['install', '-y', '-qq', '--no-install-recommends', 'redis-server']);
} finally {
  if (ownPolicy) unlinkSync(policy);
}
if (!installed) fail('apt-get could not install redis-server (see its output above).');

// If the package started a system service anyway (no policy honoured, a systemd machine), stop it and
// keep it from starting at boot: the tests start their own servers on free ports.
const quiet = (cmd, args) => {
  if (which(cmd)) spawnSync(cmd, args, { stdio: 'ignore', timeout: 30_000 });
};
if (existsSync('/run/systemd/system')) quiet('systemctl', ['stop', 'redis-server.service']);
else quiet('invoke-rc.d', ['redis-server', 'stop']);
quiet('systemctl', ['disable', 'redis-server.service']); // works without a running systemd (links only)
quiet('update-rc.d', ['redis-server', 'disable']);

const bin = which('redis-server');
if (!bin) fail('apt-get reported success but redis-server is still not on PATH.');
log(`installed ${bin}: ${version(bin)}`);
