import { type JsonRpcApiProviderOptions, type JsonRpcPayload, type JsonRpcResult, JsonRpcProvider } from 'ethers';

/**
 * An ethers v6 JsonRpcProvider for the watcher's bulk reads: the same JSON-RPC handling (request batching, error
 * mapping, static network), but replies are read with the runtime's fetch and native JSON parsing. ethers' own
 * transport decodes the body with a JavaScript UTF-8 decoder, which made a 20 MB eth_getLogs reply take ~10x longer
 * to read than to produce.
 */
export class WatcherProvider extends JsonRpcProvider {
  private readonly endpoint: string;
  private readonly headers: Record<string, string> = { 'content-type': 'application/json' };

  constructor(
    url: string,
    chainId: number,
    private readonly timeoutMs = 30_000,
    options: JsonRpcApiProviderOptions = {},
  ) {
    // A static network: no chain-id polling and no "failed to detect network" retries.
    super(url, chainId, { ...options, staticNetwork: true });
    const parsed = new URL(url);
    // fetch refuses credentials in the URL; send them as Basic authentication, as ethers' FetchRequest does.
    if (parsed.username || parsed.password) {
      const credentials = `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
      this.headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
      parsed.username = '';
      parsed.password = '';
    }
    this.endpoint = parsed.toString();
  }

  override async _send(payload: JsonRpcPayload | JsonRpcPayload[]): Promise<JsonRpcResult[]> {
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: this.headers,
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText} from the JSON-RPC node`);
    const body = (await response.json()) as JsonRpcResult | JsonRpcResult[];
    return Array.isArray(body) ? body : [body];
  }
}
