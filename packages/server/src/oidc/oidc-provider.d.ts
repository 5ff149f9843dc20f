// oidc-provider ships no types; these cover the parts Tasdiq uses.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { KeyObject } from 'node:crypto';

  export type Configuration = Record<string, unknown>;

  export interface ProviderClient {
    readonly clientId: string;
    readonly [metadata: string]: unknown;
  }

  export interface OidcRequestContext {
    readonly params?: Record<string, unknown>;
    readonly client?: ProviderClient;
    readonly [key: string]: unknown;
  }

  export interface KoaContextWithOidc {
    readonly oidc: OidcRequestContext;
    readonly req: IncomingMessage;
    readonly res: ServerResponse;
    readonly socket: import('node:net').Socket;
    readonly [key: string]: unknown;
  }

  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { readonly name: string; readonly reasons: readonly string[]; readonly details: Record<string, unknown> };
    readonly params: Record<string, unknown>;
    readonly session?: { readonly accountId?: string; readonly uid: string } | undefined;
    readonly grantId?: string | undefined;
    readonly lastSubmission?: Record<string, unknown> | undefined;
    readonly exp: number;
    result?: Record<string, unknown>;
    save(ttl: number): Promise<string>;
    persist(): Promise<string>;
  }

  export interface GrantInstance {
    readonly jti: string;
    readonly accountId: string;
    readonly clientId: string;
    readonly exp?: number;
    getOIDCScope(): string;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: readonly string[]): void;
    addResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  export interface GrantConstructor {
    new (properties: { accountId: string; clientId: string }): GrantInstance;
    find(id: string): Promise<GrantInstance | undefined>;
  }

  export interface BackchannelAuthenticationRequestInstance {
    readonly jti: string;
    readonly accountId?: string;
    readonly clientId: string;
    readonly params: Record<string, unknown>;
    readonly [key: string]: unknown;
  }

  export interface ClientConstructor {
    find(id: string): Promise<ProviderClient | undefined>;
  }

  export class Provider {
    constructor(issuer: string, configuration?: Configuration);
    readonly issuer: string;
    proxy: boolean;
    readonly Grant: GrantConstructor;
    readonly Client: ClientConstructor;
    readonly Interaction: { find(id: string): Promise<{ readonly params?: Record<string, unknown> } | undefined> };
    readonly BackchannelAuthenticationRequest: { find(id: string): Promise<BackchannelAuthenticationRequestInstance | undefined> };
    callback(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionResult(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>, options?: { mergeWithLastSubmission?: boolean }): Promise<string>;
    backchannelResult(
      request: BackchannelAuthenticationRequestInstance | string,
      result: GrantInstance | string | InstanceType<typeof errors.OIDCProviderError>,
      options?: { acr?: string; amr?: readonly string[]; authTime?: number; sessionUid?: string; expiresWithSession?: boolean; sid?: string },
    ): Promise<void>;
    on(event: string, listener: (...args: unknown[]) => void): this;
    use(middleware: (ctx: KoaContextWithOidc & { body?: unknown }, next: () => Promise<void>) => Promise<void>): void;
  }

  export class ExternalSigningKey {
    kid: string;
    alg: string;
    readonly use: 'sig';
    keyObject(): KeyObject;
    sign(data: Uint8Array): Promise<Uint8Array>;
  }

  export namespace errors {
    class OIDCProviderError extends Error {
      constructor(status: number, message: string);
      error: string;
      error_description?: string;
      status: number;
      statusCode: number;
    }
    class InvalidRequest extends OIDCProviderError {
      constructor(description?: string, code?: number);
    }
    class InvalidBindingMessage extends OIDCProviderError {
      constructor(description?: string);
    }
    class InvalidRequestObject extends OIDCProviderError {
      constructor(description?: string);
    }
    class LoginRequired extends OIDCProviderError {
      constructor(description?: string);
    }
    class UnknownUserId extends OIDCProviderError {
      constructor(description?: string);
    }
    class AccessDenied extends OIDCProviderError {
      constructor(description?: string);
    }
    class TemporarilyUnavailable extends OIDCProviderError {
      constructor(description?: string, options?: { cause?: unknown });
    }
    class InvalidClientMetadata extends OIDCProviderError {
      constructor(description?: string);
    }
    class ExpiredLoginHintToken extends OIDCProviderError {
      constructor(description?: string);
    }
  }

  export const interactionPolicy: {
    base(): unknown[] & { get(name: string): unknown };
  };
}
