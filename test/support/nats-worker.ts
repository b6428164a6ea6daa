// A child process for the NATS broker's crash tests: one NatsBroker with a
// queue-group member (argv: server URL, topic, queue, stream prefix) that
// prints `handled <body>` after each message it handled, or, with `publish`
// as fifth argument, publishes `m0`..`m<n-1>` and prints `published <i>` once
// each publish resolved. The parent SIGKILLs it mid-stream.
import { NatsBroker } from '../../src/pubsub/nats.ts';

const [url, topic, queue, streamPrefix, mode, count] = process.argv.slice(2);
const broker = new NatsBroker({ servers: url!, streamPrefix: streamPrefix!, ackWaitMs: 1000 });
await broker.start();
if (mode === 'publish') {
  console.log('ready');
  for (let i = 0; i < Number(count); i++) {
    await broker.publish(topic!, new TextEncoder().encode(`m${i}`));
    console.log(`published ${i}`);
  }
  console.log('done');
} else {
  await broker.subscribe(topic!, async (m) => {
    await new Promise((r) => setTimeout(r, 2)); // work takes a little time, so a kill lands mid-message
    console.log(`handled ${new TextDecoder().decode(m.body)}`);
  }, { queue: queue! });
  console.log('ready');
}
