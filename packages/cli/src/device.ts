import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DeviceClient, TasdiqApiError, verificationCode, type PendingRequest, type SavedDeviceState } from '@tasdiq/client';
import { UsageError, type Command } from './commands.ts';

const DEFAULT_STATE = 'tasdiq-device.json';

const USAGE = `tasdiq device <action> [options]

A simulated phone speaking the device protocol (docs/device-protocol.md), for integrators and
load tests. Its keys are kept, extractable, in a state file (default ./${DEFAULT_STATE}, mode 0600);
a real app keeps them in the platform key store.

Actions:
  activate --code CODE --server URL [--label TEXT]   activate with an operator's activation code
  activate --code 'tasdiq://activate?code=...&server=...'   or with the URI in the operator's QR
  approve  [--code NNNN] [--refuse] [--wait SECONDS] confirm (or refuse) the pending request; without
                                                     --code the simulator picks the right code itself
           [--message TEXT]                          for a confirmation-message request (CIBA): confirm
                                                     only if the phone shows TEXT, as a citizen compares
                                                     it with what the clerk says; refuse otherwise
  link     --qr TEXT [--refuse]                      scan a device-link QR and confirm it
  status                                             show the device as the service sees it
  revoke                                             retire this device

Common: --state FILE`;

/** What a state file written by `save` holds; anything else is a damaged or foreign file. */
function isSavedState(value: unknown): value is SavedDeviceState {
  const v = value as Record<string, unknown> | null;
  const key = (k: unknown) => typeof k === 'object' && k !== null && typeof (k as { spki?: unknown }).spki === 'string' && typeof (k as { jwk?: unknown }).jwk === 'object';
  return (
    typeof v === 'object' && v !== null &&
    typeof v.server === 'string' && typeof v.deviceId === 'string' && Number.isSafeInteger(v.counter) &&
    key(v.authKey) && key(v.signKey) &&
    typeof v.authCertificate === 'string' && typeof v.signCertificate === 'string' && typeof v.caCertificate === 'string'
  );
}

async function load(path: string): Promise<DeviceClient> {
  let saved: unknown;
  try {
    saved = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read device state ${path}: ${(error as Error).message}; run 'tasdiq device activate' first`);
  }
  if (!isSavedState(saved)) throw new UsageError(`${path} is not a device state file (damaged, or written by something else); run 'tasdiq device activate' again`);
  try {
    return await DeviceClient.restore(saved);
  } catch (error) {
    throw new UsageError(`the keys in ${path} cannot be loaded (${(error as Error).message}); run 'tasdiq device activate' again`);
  }
}

async function save(path: string, device: DeviceClient): Promise<void> {
  writeFileSync(path, JSON.stringify(await device.save(), null, 2) + '\n', { mode: 0o600 });
  chmodSync(path, 0o600);
}

function describe(request: PendingRequest): string {
  const what = request.kind === 'sign' ? `sign "${request.documentName}" (SHA-256 ${request.documentHash})` : 'sign in';
  return `${request.service} asks you to ${what}${request.reason ? ` — ${request.reason}` : ''}`;
}

async function decide(device: DeviceClient, request: PendingRequest, options: { code?: string | undefined; message?: string | undefined; refuse: boolean }): Promise<number> {
  console.log(describe(request));
  const mismatch = request.interaction === 'confirmation_message' && options.message !== undefined && options.message !== request.confirmationMessage;
  if (request.interaction === 'confirmation_message') console.log(`message to confirm: ${request.confirmationMessage}`);
  if (mismatch) console.log('the message differs from the one expected: refusing');
  if (options.refuse || mismatch) {
    const result = await device.refuse(request);
    console.log(`refused: ${result.result}`);
    return 0;
  }
  let code = options.code;
  if (request.interaction === 'confirmation_message') code = undefined;
  else if (request.verificationCodeChoices) {
    console.log(`codes offered: ${request.verificationCodeChoices.join('  ')}`);
    // A person compares with the code on the other screen; the simulator can compute it.
    code ??= await verificationCode(request.signingInput);
    console.log(`picked: ${code}`);
  }
  const result = await device.confirm(request, code);
  console.log(`result: ${result.result}`);
  return result.result === 'OK' ? 0 : 1;
}

export const deviceCommand: Command = {
  name: 'device',
  summary: 'Simulated phone: activate, approve sign-ins and signatures, device link',
  usage: USAGE,
  async run(args) {
    const [action, ...rest] = args;
    const { values } = parseArgs({
      args: rest,
      options: {
        state: { type: 'string', default: DEFAULT_STATE },
        code: { type: 'string' },
        server: { type: 'string' },
        label: { type: 'string' },
        qr: { type: 'string' },
        message: { type: 'string' },
        refuse: { type: 'boolean', default: false },
        wait: { type: 'string', default: '30' },
      },
      strict: true,
    });
    const statePath = values.state;
    try {
      switch (action) {
        case 'activate': {
          // The operator's QR holds tasdiq://activate?code=...&server=...; either form is accepted.
          const uri = values.code?.startsWith('tasdiq://') ? new URL(values.code) : undefined;
          const code = uri?.searchParams.get('code') ?? values.code;
          const server = (values.server ?? uri?.searchParams.get('server') ?? '').replace(/\/+$/, '');
          if (!code || !server) throw new UsageError('activate needs --code and --server (or --code with the tasdiq://activate URI)');
          const device = await DeviceClient.activate(server, code.replaceAll(/[\s-]/g, ''), { extractable: true, ...(values.label ? { label: values.label } : {}) });
          await save(statePath, device);
          console.log(`activated device ${device.deviceId}; state saved to ${statePath}`);
          return 0;
        }
        case 'approve': {
          const wait = Number(values.wait);
          if (!Number.isFinite(wait) || wait < 0 || wait > 600) throw new UsageError('--wait: seconds from 0 to 600');
          if (values.code !== undefined && !/^\d{4}$/.test(values.code)) throw new UsageError('--code: the 4-digit code shown on the other screen');
          const device = await load(statePath);
          try {
            const deadline = Date.now() + wait * 1000;
            for (;;) {
              const request = await device.pending();
              if (request) return await decide(device, request, { code: values.code, message: values.message, refuse: values.refuse });
              if (Date.now() >= deadline) {
                console.error('no pending request');
                return 1;
              }
              await new Promise((r) => setTimeout(r, 500));
            }
          } finally {
            await save(statePath, device);
          }
        }
        case 'link': {
          if (!values.qr) throw new UsageError('link needs --qr');
          const device = await load(statePath);
          try {
            return await decide(device, await device.link(values.qr), { refuse: values.refuse });
          } finally {
            await save(statePath, device);
          }
        }
        case 'status':
        case 'revoke': {
          const device = await load(statePath);
          try {
            console.log(JSON.stringify(action === 'status' ? await device.me() : await device.revoke(), null, 2));
            return 0;
          } finally {
            await save(statePath, device);
          }
        }
        default:
          throw new UsageError(`unknown action "${action ?? ''}"\n\n${USAGE}`);
      }
    } catch (error) {
      if (error instanceof TasdiqApiError) {
        console.error(`tasdiq device ${action}: ${error.code} (${error.message})`);
        return 1;
      }
      throw error;
    }
  },
};
