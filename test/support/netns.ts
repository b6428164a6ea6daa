/**
 * A virtual LAN made of Linux network namespaces, for multi-host tests
 * (mDNS, partitions, loss; later SWIM and pubsub across hosts). See
 * docs/netns-testing.md.
 *
 * Layout: one namespace per host plus one "switch" namespace holding a
 * bridge per LAN. Each host's `ethK` is a veth whose peer is a port of LAN
 * K's bridge inside the switch namespace. Nothing is created in the root
 * namespace (only the /run/netns names), no bridge touches a real interface
 * and no host has a route out, so no packet, multicast included, can leave
 * the machine. Loss and partitions are nftables rules (bridge family) on the
 * switch's forward hook: they see every frame between two hosts, multicast
 * and ARP included.
 *
 * Needs root, `ip` (iproute2) and `nft` (nftables); `netnsSupport()` says
 * why not when they are missing, and `netnsGate()` skips or fails on it.
 */
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Repository root, the working directory of spawned node processes (so `--import tsx` resolves). */
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Kill the command after this long, ms. Default 30000. */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Written to the command's stdin. */
  input?: string;
  /** Resolve with a non-zero exit code instead of rejecting. */
  allowFailure?: boolean;
}

/** Runs a command (in the root namespace unless it is `ip netns exec ...`). Rejects on non-zero exit unless allowed. */
export function run(cmd: string, args: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, {
      timeout: opts.timeoutMs ?? 30_000, signal: opts.signal, maxBuffer: 16 << 20, encoding: 'utf8',
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1;
      if (err !== null && (code === -1 || !opts.allowFailure)) {
        reject(new Error(`${cmd} ${args.join(' ')} failed (${code === -1 ? err.message : `exit ${code}`}): ${stderr.trim()}`, { cause: err }));
      } else {
        resolve({ code, stdout, stderr });
      }
    });
    // A command that exits without reading its stdin makes our write fail with EPIPE: not its failure.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input);
  });
}

// ---- support check

export interface NetnsSupport {
  ok: boolean;
  /** Why not, when not ok: what to install or how to run. */
  reason?: string;
}

/** Whether this machine can run virtual LANs: Linux, root, `ip netns`, `nft` with bridge tables. */
export async function netnsSupport(): Promise<NetnsSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, reason: 'network namespaces need root (run the tests as root, as CI does)' };
  for (const [cmd, pkg] of [['ip', 'iproute2'], ['nft', 'nftables']] as const) {
    try {
      await run(cmd, [cmd === 'nft' ? '--version' : '-V']);
    } catch {
      return { ok: false, reason: `\`${cmd}\` not found: install ${pkg} (apt-get install ${pkg}; .ci/run does)` };
    }
  }
  const probe = `mmprobe-${process.pid}-${Date.now() % 100000}`;
  try {
    await run('ip', ['netns', 'add', probe]);
    await run('ip', ['netns', 'exec', probe, 'nft', '-f', '-'], { input: 'table bridge probe {\n chain c { type filter hook forward priority 0; policy accept; numgen random mod 10 < 5 drop; }\n}\n' });
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: `cannot create a namespace with an nft bridge table: ${(err as Error).message}` };
  } finally {
    await run('ip', ['netns', 'del', probe], { allowFailure: true }).catch(() => {});
  }
}

/** Set to 1 (CI does) to make the netns tests fail, never skip, where virtual LANs cannot run. */
export const REQUIRE_NETNS_ENV = 'MICROMESH_REQUIRE_NETNS';

/** Whether a file's netns tests run; pass it as each test's options. */
export interface NetnsGate {
  /** node:test's `skip`: the one-line reason when they cannot run here and are not required, else false. */
  readonly skip: string | false;
  /**
   * Call first in `before` (root hooks run even when every test is skipped):
   * false when skipped (build nothing), true when the LAN can be built;
   * throws the reason when required but impossible, failing every test.
   */
  ready(): boolean;
}

/**
 * The one gate of the netns tests: a machine without root, namespaces or nft
 * skips them with the reason, unless MICROMESH_REQUIRE_NETNS=1 makes them
 * fail with it. Top-level `await` it, as `skip` must be known when tests register.
 */
export async function netnsGate(env: NodeJS.ProcessEnv = process.env): Promise<NetnsGate> {
  const s = await netnsSupport();
  if (s.ok) return { skip: false, ready: () => true };
  const reason = (s.reason ?? 'unknown').replace(/\s+/g, ' ').trim(); // nft/ip stderr may span lines; skip reasons must not
  const required = (env[REQUIRE_NETNS_ENV] ?? '') !== '' && env[REQUIRE_NETNS_ENV] !== '0';
  if (!required) return { skip: reason, ready: () => false };
  return {
    skip: false,
    ready: () => {
      throw new Error(`${REQUIRE_NETNS_ENV}=${env[REQUIRE_NETNS_ENV]} but this machine cannot run virtual LANs: ${reason}`);
    },
  };
}

// ---- process-wide cleanup registry

/**
 * Every live LAN of this process, so an exit or a signal removes them. This
 * is process-wide by nature (exit hooks are), hence the one module-level
 * object; it holds nothing else.
 */
const registry = { lans: new Set<VirtualLan>(), counter: 0, hooked: false };

function hookExit(): void {
  if (registry.hooked) return;
  registry.hooked = true;
  process.on('exit', () => {
    for (const lan of registry.lans) lan.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      for (const lan of registry.lans) lan.destroySync();
      process.off(sig, onSignal);
      process.kill(process.pid, sig); // then die of the signal as we would have
    };
    process.on(sig, onSignal);
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Deletes namespaces named `<prefix>-<pid>-...` whose process is gone (a
 * crashed or killed test run). Returns the names deleted.
 */
export async function cleanupStale(prefix: string): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  const re = new RegExp(`^(${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)-\\d+-\\S+)`);
  const stale: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = re.exec(line.trim());
    if (m !== null && Number(m[2]) !== process.pid && !pidAlive(Number(m[2]))) stale.push(m[1]!);
  }
  for (const ns of stale) await run('ip', ['netns', 'del', ns], { allowFailure: true });
  return stale;
}

// ---- hosts

export interface HostInterface {
  /** Device name inside the host, `eth0`, `eth1`, ... (one per LAN the host is on). */
  name: string;
  /** IPv4 address, `198.18.<lan>.<host index + 1>`. */
  address: string;
  /** Prefix length (24). */
  prefixLength: number;
  lan: number;
  /** The bridge port (veth peer) in the switch namespace, `h<host>l<lan>`. */
  port: string;
}

export type SpawnInOptions = Pick<SpawnOptions, 'env' | 'stdio' | 'cwd'>;

/** One host of a virtual LAN: a network namespace. */
export class VirtualHost {
  readonly index: number;
  /** `h0`, `h1`, ... */
  readonly name: string;
  /** The namespace's name, for `ip netns exec`. */
  readonly netns: string;
  readonly interfaces: readonly HostInterface[];
  private readonly children: Set<ChildProcess>;

  constructor(index: number, netns: string, interfaces: HostInterface[], children: Set<ChildProcess>) {
    this.index = index;
    this.name = `h${index}`;
    this.netns = netns;
    this.interfaces = interfaces;
    this.children = children;
  }

  /** The address on the host's first LAN. */
  get address(): string {
    return this.interfaces[0]!.address;
  }

  /** The host's address on `lan`; throws when it is not on it. */
  addressOn(lan: number): string {
    const i = this.interfaces.find((x) => x.lan === lan);
    if (i === undefined) throw new Error(`${this.name} is not on LAN ${lan}`);
    return i.address;
  }

  /** Runs a command inside the host and collects its output. */
  exec(cmd: string, args: readonly string[] = [], opts: ExecOptions = {}): Promise<ExecResult> {
    return run('ip', ['netns', 'exec', this.netns, cmd, ...args], opts);
  }

  /**
   * Starts a long-running process inside the host. `ip netns exec` execs the
   * command in place, so the child's pid is the command's. The LAN kills it
   * on destroy if it is still running.
   */
  spawn(cmd: string, args: readonly string[] = [], opts: SpawnInOptions = {}): ChildProcess {
    const child = spawn('ip', ['netns', 'exec', this.netns, cmd, ...args], { stdio: opts.stdio ?? 'pipe', env: opts.env, cwd: opts.cwd ?? REPO_ROOT });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    child.on('error', () => {}); // reported through 'exit'; an unhandled 'error' would crash the test process
    return child;
  }

  /** Starts a TypeScript file under Node (through tsx) inside the host. */
  spawnNode(script: string, args: readonly string[] = [], opts: SpawnInOptions = {}): ChildProcess {
    return this.spawn(process.execPath, ['--import', 'tsx', script, ...args], opts);
  }
}

// ---- the LAN

export interface HostSpec {
  /** LANs (bridges) the host is plugged into, one interface each. Default [0]. */
  lans?: number[];
}

export interface VirtualLanOptions {
  /** How many hosts (each on LAN 0), or one spec per host. */
  hosts: number | HostSpec[];
  /** Start of every namespace name; stale namespaces with this prefix are cleaned up. Default `mmtest`. */
  prefix?: string;
  signal?: AbortSignal;
}

export type LossDirection = 'in' | 'out' | 'both';

export class VirtualLan {
  /** `<prefix>-<pid>-<n>`: the start of every namespace of this LAN. */
  readonly id: string;
  readonly hosts: readonly VirtualHost[];
  /** The switch namespace holding the bridges. */
  readonly switchNetns: string;
  readonly lanCount: number;
  private readonly children = new Set<ChildProcess>();
  private groups: VirtualHost[][] | undefined;
  private readonly loss = new Map<VirtualHost, { share: number; direction: LossDirection }>();
  private destroyed = false;

  private constructor(id: string, specs: HostSpec[]) {
    this.id = id;
    this.switchNetns = `${id}-sw`;
    const lanLists = specs.map((s) => [...new Set(s.lans ?? [0])]);
    this.lanCount = Math.max(...lanLists.flat()) + 1;
    this.hosts = lanLists.map((lans, i) => new VirtualHost(i, `${id}-h${i}`, lans.map((lan, k) => ({
      name: `eth${k}`, address: `198.18.${lan}.${i + 1}`, prefixLength: 24, lan, port: `h${i}l${lan}`,
    })), this.children));
  }

  /** Builds the LAN: namespaces, bridges, veths, addresses, multicast routes, an empty nft table. */
  static async create(opts: VirtualLanOptions): Promise<VirtualLan> {
    const specs: HostSpec[] = typeof opts.hosts === 'number' ? Array.from({ length: opts.hosts }, () => ({})) : opts.hosts;
    if (specs.length < 1 || specs.length > 250) throw new Error(`hosts must be 1 to 250, got ${specs.length}`);
    for (const s of specs) {
      for (const lan of s.lans ?? [0]) if (!Number.isInteger(lan) || lan < 0 || lan > 255) throw new Error(`LAN numbers must be integers in [0, 255] (198.18.<lan>.0/24), got ${lan}`);
    }
    const prefix = opts.prefix ?? 'mmtest';
    if (!/^[a-z][a-z0-9]{0,15}$/.test(prefix)) throw new Error(`prefix must be 1-16 of [a-z0-9], starting with a letter, got "${prefix}"`);
    await cleanupStale(prefix);
    const lan = new VirtualLan(`${prefix}-${process.pid}-${registry.counter++}`, specs);
    hookExit();
    registry.lans.add(lan);
    try {
      await lan.build(opts.signal);
    } catch (err) {
      await lan.destroy();
      throw err;
    }
    return lan;
  }

  private async build(signal: AbortSignal | undefined): Promise<void> {
    const sw = this.switchNetns;
    for (const ns of [sw, ...this.hosts.map((h) => h.netns)]) await run('ip', ['netns', 'add', ns], { signal });
    const swCmds = ['link set lo up'];
    for (let l = 0; l < this.lanCount; l++) {
      // No snooping: flood all multicast, like a dumb switch, whatever IGMP says.
      swCmds.push(`link add br${l} type bridge mcast_snooping 0 stp_state 0`, `link set br${l} up`);
    }
    for (const h of this.hosts) {
      for (const i of h.interfaces) {
        swCmds.push(`link add ${i.port} type veth peer name ${i.name} netns ${h.netns}`, `link set ${i.port} master br${i.lan}`, `link set ${i.port} up`);
      }
    }
    await run('ip', ['-n', sw, '-batch', '-'], { input: swCmds.join('\n') + '\n', signal });
    await Promise.all(this.hosts.map((h) => {
      const cmds = ['link set lo up multicast on'];
      h.interfaces.forEach((i, k) => {
        cmds.push(`addr add ${i.address}/${i.prefixLength} dev ${i.name}`, `link set ${i.name} up multicast on`);
        // The group route mDNS sends by; one per interface, the first preferred (lowest metric).
        cmds.push(`route add 224.0.0.0/4 dev ${i.name} metric ${k}`);
      });
      return run('ip', ['-n', h.netns, '-batch', '-'], { input: cmds.join('\n') + '\n', signal });
    }));
    await this.applyRules();
  }

  /** A host by index. */
  host(i: number): VirtualHost {
    const h = this.hosts[i];
    if (h === undefined) throw new Error(`no host ${i} (the LAN has ${this.hosts.length})`);
    return h;
  }

  /**
   * Cuts the LAN into groups that cannot reach each other (every frame
   * between groups is dropped, multicast included). Hosts listed in no group
   * form one more group together. Replaces any earlier partition.
   */
  async partition(groups: VirtualHost[][]): Promise<void> {
    const listed = new Set(groups.flat());
    if (listed.size !== groups.flat().length) throw new Error('a host is listed in two groups');
    const rest = this.hosts.filter((h) => !listed.has(h));
    this.groups = rest.length > 0 ? [...groups, rest] : groups;
    await this.applyRules();
  }

  /** Removes the partition. */
  async heal(): Promise<void> {
    this.groups = undefined;
    await this.applyRules();
  }

  /**
   * Drops each frame the host sends (`out`), receives (`in`) or both with
   * probability `share` (nft `numgen random`). 0 removes the loss.
   */
  async setLoss(host: VirtualHost, share: number, direction: LossDirection = 'both'): Promise<void> {
    if (!(share >= 0 && share <= 1)) throw new Error(`loss share must be in [0, 1], got ${share}`);
    if (share === 0) this.loss.delete(host);
    else this.loss.set(host, { share, direction });
    await this.applyRules();
  }

  /** The nft ruleset currently loaded in the switch (for debugging and the harness test). */
  async rules(): Promise<string> {
    return (await run('ip', ['netns', 'exec', this.switchNetns, 'nft', 'list', 'ruleset'])).stdout;
  }

  /** Rebuilds the whole table in one nft transaction, so rules never half-apply. */
  private async applyRules(): Promise<void> {
    const ports = (hosts: VirtualHost[]): string => `{ ${hosts.flatMap((h) => h.interfaces.map((i) => `"${i.port}"`)).join(', ')} }`;
    const rules: string[] = [];
    const groups = this.groups ?? [];
    for (let a = 0; a < groups.length; a++) {
      for (let b = 0; b < groups.length; b++) {
        if (a !== b && groups[a]!.length > 0 && groups[b]!.length > 0) rules.push(`iifname ${ports(groups[a]!)} oifname ${ports(groups[b]!)} drop`);
      }
    }
    for (const [h, { share, direction }] of this.loss) {
      // numgen's range tops out below the modulus: a share of 1 is a plain drop.
      const threshold = Math.round(share * 1_000_000);
      const match = threshold >= 1_000_000 ? '' : ` numgen random mod 1000000 < ${threshold}`;
      if (direction !== 'in') rules.push(`iifname ${ports([h])}${match} drop`);
      if (direction !== 'out') rules.push(`oifname ${ports([h])}${match} drop`);
    }
    const script = [
      'table bridge micromesh', 'delete table bridge micromesh', 'table bridge micromesh {',
      '  chain lan_forward {', '    type filter hook forward priority 0; policy accept;',
      ...rules.map((r) => `    ${r}`), '  }', '}', '',
    ].join('\n');
    await run('ip', ['netns', 'exec', this.switchNetns, 'nft', '-f', '-'], { input: script });
  }

  /** Kills the processes started in the hosts and deletes every namespace. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    registry.lans.delete(this);
    await Promise.all([...this.children].map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    })));
    for (const ns of [...this.hosts.map((h) => h.netns), this.switchNetns]) await run('ip', ['netns', 'del', ns], { allowFailure: true }).catch(() => {});
  }

  /** `destroy` for exit hooks, where nothing asynchronous runs any more. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    registry.lans.delete(this);
    for (const c of this.children) c.kill('SIGKILL');
    for (const ns of [...this.hosts.map((h) => h.netns), this.switchNetns]) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.destroy();
  }
}
