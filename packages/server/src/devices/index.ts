import type { AppContext, TasdiqModule } from '../platform/module.ts';
import { enrollmentDirectory } from './directory.ts';
import { recordAudit } from '../audit/audit.ts';
import { keyStoreFor } from '../platform/keys/index.ts';
import { deviceMigrations } from './migrations.ts';
import { DeviceCa } from './ca.ts';
import { DeviceAuthenticator } from './protocol.ts';
import { DeviceService } from './service.ts';
import { KeyAttestationVerifier } from './attestation.ts';
import { webauthnParty } from '../platform/webauthn.ts';
import { deviceRoutes } from './routes.ts';
import type { DeviceDependencies } from './ports.ts';

export { revokeDevicesForCitizen, revokeDevices } from './service.ts';
export { DeviceCa, pinflSerialNumber, CA_KEY_NAME } from './ca.ts';
export { DeviceAuthenticator, installDeviceProtocol, HEADER_COUNTER, HEADER_DEVICE, HEADER_SIGNATURE, HEADER_TIMESTAMP } from './protocol.ts';
export { DeviceErrors } from './errors.ts';
export type { CitizenDirectory, ActivationGrant, AuditRecorder, DeviceDependencies } from './ports.ts';
export type { Device, KeyStorage } from './schema.ts';
export { KeyAttestationVerifier, type KeyAttestation } from './attestation.ts';

export interface DeviceServices {
  readonly ca: DeviceCa;
  readonly devices: DeviceService;
  readonly authenticator: DeviceAuthenticator;
  readonly deps: DeviceDependencies;
}

const built = new WeakMap<AppContext, DeviceServices>();

/** The device services of one running app, shared with the auth module. */
export function deviceServicesFor(context: AppContext, deps: DeviceDependencies): DeviceServices {
  let services = built.get(context);
  if (!services) {
    const ca = new DeviceCa({ db: context.db, keys: keyStoreFor(context), now: context.now, publicUrl: context.config.publicUrl });
    services = {
      ca,
      devices: new DeviceService({ db: context.db, ca, deps, attestation: KeyAttestationVerifier.fromConfig({
          rootsFile: context.config.keyAttestationRoots,
          statusFile: context.config.keyAttestationStatus,
          appAttest: { rootsFile: context.config.appAttestRoots, appIds: context.config.appAttestAppIds, environment: context.config.appAttestEnvironment },
          now: context.now,
        }),
        party: () => webauthnParty(context.config.publicUrl),
        now: context.now,
      }),
      authenticator: new DeviceAuthenticator(context.db, context.now),
      deps,
    };
    built.set(context, services);
  }
  return services;
}

export function createDevicesModule(deps: DeviceDependencies): TasdiqModule {
  return {
    name: 'devices',
    migrations: deviceMigrations,
    routes: (app, context) => deviceRoutes(deviceServicesFor(context, deps))(app, context),
    links: (base) => [{ label: 'Device CA certificate', url: `${base}/api/v1/device/ca/certificate` }],
  };
}

export const devicesModule: TasdiqModule = createDevicesModule({ directory: enrollmentDirectory, audit: recordAudit });
