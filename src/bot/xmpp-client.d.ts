// @xmpp/client ships no types: the part the XMPP input uses.
declare module '@xmpp/client' {
  export function client(options: { service: string; domain?: string; username?: string; password?: string; resource?: string }): unknown;
  export function xml(name: string, attrs?: Record<string, string>, ...children: unknown[]): unknown;
}
