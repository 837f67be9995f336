/**
 * Without Bot Framework credentials the adapter would POST replies to any serviceUrl an
 * activity names (an open relay). Unauthenticated servers reply only to allow-listed hosts.
 */
export class ServiceUrlPolicy {
  private readonly hosts: Set<string>;

  constructor(allowedHosts: string[]) {
    this.hosts = new Set(allowedHosts.map((h) => normalizeHost(h)));
  }

  isAllowed(serviceUrl: string): boolean {
    let url: URL;
    try {
      url = new URL(serviceUrl);
    } catch {
      return false;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    if (url.username || url.password) return false;
    return this.hosts.has(normalizeHost(url.hostname));
  }
}

function normalizeHost(host: string): string {
  return host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
}
