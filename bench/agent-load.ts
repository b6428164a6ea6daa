// Load generator process for bench/agent.ts, in its own process so the
// serving process has its core to itself.
//   dns:  SRV queries for svc-N.service.consul over UDP (N cycling), a fixed
//         window of queries in flight; an answer counts when its id is one in
//         flight, RCODE is NOERROR, TC is clear and it holds <expect> answers
//         (every 256th is decoded whole to check they are SRV records). A
//         query unanswered for 1 s is counted lost and replaced.
//   http: GET /v1/health/service/svc-N over keep-alive connections, one
//         request in flight on each; an answer counts when it is 200 and a
//         JSON array of <expect> entries.
// Prints MEASURE and MEASURED around the measured run, then one JSON line
// {ok, bad, lost, seconds, p50_us, p99_us, cpu_us}.
//   agent-load.ts dns|http <host:port> <in flight> <warmup s> <measured s> <services> <expect>
import dgram from 'node:dgram';
import http from 'node:http';
import * as dnsPacket from 'dns-packet';

const [mode, address, inFlightArg, warmupArg, secondsArg, servicesArg, expectArg] = process.argv.slice(2);
const sep = address!.lastIndexOf(':');
const host = address!.slice(0, sep);
const port = Number(address!.slice(sep + 1));
const IN_FLIGHT = Number(inFlightArg);
const SERVICES = Number(servicesArg);
const EXPECT = Number(expectArg);
const LOST_MS = 1000;

/** Counters of the current phase; reset when the measured run starts. */
const phase = { measuring: false, ok: 0, bad: 0, lost: 0, latencies: [] as number[] };
let stopping = false;

function answered(ok: boolean, sentAt: number): void {
  if (!ok) {
    phase.bad++;
    return;
  }
  phase.ok++;
  if (phase.measuring) phase.latencies.push((performance.now() - sentAt) * 1000);
}

/** Starts the load; resolves when stopping is set and everything in flight has settled. */
function runDns(): Promise<void> {
  const sock = dgram.createSocket('udp4');
  // One pre-encoded query per name; EDNS 4096 as dig sends, so three SRV records and their A records fit.
  const templates = Array.from({ length: SERVICES }, (_, n) => dnsPacket.encode({
    type: 'query', id: 0, flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'SRV', name: `svc-${n}.service.consul` }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096 } as dnsPacket.Answer],
  }));
  const sentAt = new Float64Array(65_536);
  const pending = new Uint8Array(65_536);
  let inFlight = 0;
  let nextId = 0;
  let nextName = 0;
  let answers = 0;
  const send = (): void => {
    while (pending[nextId] === 1) nextId = (nextId + 1) & 0xffff;
    const id = nextId;
    nextId = (nextId + 1) & 0xffff;
    const buf = Buffer.from(templates[nextName]!);
    nextName = (nextName + 1) % SERVICES;
    buf.writeUInt16BE(id, 0);
    pending[id] = 1;
    sentAt[id] = performance.now();
    inFlight++;
    sock.send(buf);
  };
  const fill = (): void => {
    while (!stopping && inFlight < IN_FLIGHT) send();
  };
  return new Promise((resolve) => {
    const finish = (): void => {
      if (stopping && inFlight === 0) {
        clearInterval(sweep);
        sock.close();
        resolve();
      }
    };
    sock.on('message', (msg) => {
      if (msg.length < 12) return;
      const id = msg.readUInt16BE(0);
      if (pending[id] !== 1) return; // late answer to a query already counted lost
      pending[id] = 0;
      inFlight--;
      const flags = msg.readUInt16BE(2);
      let ok = (flags & 0x8000) !== 0 && (flags & 0x0200) === 0 && (flags & 0xf) === 0 && msg.readUInt16BE(6) === EXPECT;
      if (ok && (answers++ & 255) === 0) ok = dnsPacket.decode(msg).answers?.every((a) => a.type === 'SRV') === true;
      answered(ok, sentAt[id]!);
      fill();
      finish();
    });
    const sweep = setInterval(() => {
      const old = performance.now() - LOST_MS;
      for (let id = 0; id < 65_536; id++) {
        if (pending[id] === 1 && sentAt[id]! < old) {
          pending[id] = 0;
          inFlight--;
          phase.lost++;
        }
      }
      fill();
      finish();
    }, 100);
    sock.connect(port, host, fill);
  });
}

function runHttp(): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  let nextName = 0;
  const one = (): Promise<void> => new Promise((resolve) => {
    const t0 = performance.now();
    const path = `/v1/health/service/svc-${nextName}`;
    nextName = (nextName + 1) % SERVICES;
    const req = http.get({ host, port, path, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let ok = res.statusCode === 200;
        if (ok) {
          try {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
            ok = Array.isArray(body) && body.length === EXPECT;
          } catch {
            ok = false;
          }
        }
        answered(ok, t0);
        resolve();
      });
      res.on('error', () => { phase.bad++; resolve(); });
    });
    req.setTimeout(10_000, () => req.destroy());
    req.on('error', () => { phase.lost++; resolve(); });
  });
  const worker = async (): Promise<void> => {
    while (!stopping) await one();
  };
  return Promise.all(Array.from({ length: IN_FLIGHT }, worker)).then(() => agent.destroy());
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const done = mode === 'dns' ? runDns() : mode === 'http' ? runHttp() : Promise.reject(new Error(`mode must be dns or http, got ${mode}`));
done.catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
await sleep(Number(warmupArg) * 1000);
Object.assign(phase, { measuring: true, ok: 0, bad: 0, lost: 0, latencies: [] });
console.log('MEASURE');
const cpu0 = process.cpuUsage();
const t0 = performance.now();
await sleep(Number(secondsArg) * 1000);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const result = { ok: phase.ok, bad: phase.bad, lost: phase.lost, seconds, cpu_us: cpu.user + cpu.system };
phase.measuring = false;
console.log('MEASURED');
stopping = true;
await done;
const lat = phase.latencies.sort((a, b) => a - b);
const pct = (p: number): number => (lat.length === 0 ? 0 : Math.round(lat[Math.min(lat.length - 1, Math.floor(lat.length * p))]!));
console.log(JSON.stringify({ ...result, p50_us: pct(0.5), p99_us: pct(0.99) }));
