import { listSupportedBackends, type InferenceSession } from 'onnxruntime-node';

/** Execution providers this app knows how to ask for. `auto` = cuda if usable, else cpu. */
export type ProviderName = 'cpu' | 'cuda' | 'webgpu';
export type ProviderRequest = ProviderName | 'auto';

export const PROVIDER_REQUESTS: readonly ProviderRequest[] = ['cpu', 'cuda', 'webgpu', 'auto'];

export interface ProviderChoice {
  /** The provider the session is created for. */
  name: ProviderName;
  /** Passed as SessionOptions.executionProviders (cpu is always last, as ORT's fallback). */
  executionProviders: InferenceSession.SessionOptions['executionProviders'];
}

export interface BackendInfo {
  name: string;
  bundled: boolean;
}

/**
 * Which providers this onnxruntime-node build supports. `bundled: false` (cuda, tensorrt) means
 * the provider's libraries are installed separately: see README "GPU"; whether they load is only
 * known when a session is created.
 */
export function supportedBackends(): BackendInfo[] {
  try {
    return listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
  } catch {
    return [{ name: 'cpu', bundled: true }];
  }
}

export function isProviderRequest(value: string): value is ProviderRequest {
  return (PROVIDER_REQUESTS as readonly string[]).includes(value);
}

/**
 * Maps a request to session options. An explicit provider the build does not list is an error
 * (a silent CPU fallback would hide a misconfigured GPU host); `auto` picks cuda only when the
 * build lists it and the caller says its libraries are installed (`cudaInstalled`).
 */
export function chooseProvider(
  request: ProviderRequest,
  opts: { backends?: BackendInfo[]; cudaInstalled?: boolean; deviceId?: number } = {},
): ProviderChoice {
  const backends = opts.backends ?? supportedBackends();
  const has = (name: string): boolean => backends.some((b) => b.name === name);
  const name: ProviderName =
    request === 'auto' ? (has('cuda') && opts.cudaInstalled === true ? 'cuda' : 'cpu') : request;
  if (!has(name)) {
    throw new Error(
      `Execution provider "${name}" is not available in this onnxruntime-node build ` +
        `(available: ${backends.map((b) => b.name).join(', ')})`,
    );
  }
  switch (name) {
    case 'cpu':
      return { name, executionProviders: ['cpu'] };
    case 'cuda':
      return { name, executionProviders: [{ name: 'cuda', deviceId: opts.deviceId ?? 0 }, 'cpu'] };
    case 'webgpu':
      return { name, executionProviders: ['webgpu', 'cpu'] };
  }
}
