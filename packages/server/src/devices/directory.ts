import type { Db, Tx } from '../platform/db/index.ts';
import { consumeActivationCode, getActiveBinding } from '../enrollment/activation.ts';
import type { CitizenDirectory } from './ports.ts';
import '../identity/schema.ts';
import '../enrollment/schema.ts';

/**
 * Identity and enrollment as devices and sign-ins see them. Bindings are read through
 * `getActiveBinding`, so a suspended enrollment's phone cannot be used to sign in.
 */
export const enrollmentDirectory: CitizenDirectory = {
  consumeActivationCode,
  async pinflOf(db: Db | Tx, citizenId: string) {
    return (await db.selectFrom('citizens').select('pinfl').where('id', '=', citizenId).executeTakeFirst())?.pinfl;
  },
  async citizenByPinfl(db: Db | Tx, pinfl: string) {
    return (await db.selectFrom('citizens').select('id').where('pinfl', '=', pinfl).executeTakeFirst())?.id;
  },
  async citizenByPhone(db: Db | Tx, e164: string) {
    const row = await db.selectFrom('phone_bindings').select('active_citizen_id').where('active_phone', '=', e164).executeTakeFirst();
    if (!row?.active_citizen_id) return undefined;
    return (await getActiveBinding(db, row.active_citizen_id)) ? row.active_citizen_id : undefined;
  },
  async activeBinding(db: Db | Tx, citizenId: string) {
    const binding = await getActiveBinding(db, citizenId);
    return binding ? { bindingId: binding.bindingId, phone: binding.phone } : undefined;
  },
};
