export type { Codec, Codecs } from './types.ts';
export { CborCodec } from './cbor.ts';
export { JsonCodec } from './json.ts';
export { CodecSet, defaultCodecs } from './codecs.ts';
