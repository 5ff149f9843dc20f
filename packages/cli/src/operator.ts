import { parseArgs } from 'node:util';
import { inviteOperator, OPERATOR_ROLES, type OperatorRole } from '@tasdiq/server';
import { withDatabase } from './database.ts';
import { UsageError, type Command } from './commands.ts';

const USAGE = [
  'tasdiq operator create-admin --name NAME --office OFFICE_ID [--config FILE]',
  '       tasdiq operator invite --name NAME --role ROLE --office OFFICE_ID [--config FILE]',
  '       tasdiq operator list [--config FILE]',
].join('\n');


export const operatorCommand: Command = {
  name: 'operator',
  summary: 'Bootstrap the first admin and invite operators of the enrollment console (one-time passkey links)',
  usage: USAGE,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      options: { name: { type: 'string' }, office: { type: 'string' }, role: { type: 'string' }, config: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
    const [action] = positionals;
    if (!action || !['create-admin', 'invite', 'list'].includes(action)) throw new UsageError(`expected an action\nUsage: ${USAGE}`);
    let role: OperatorRole = 'admin';
    if (action !== 'list') {
      if (!values.name?.trim()) throw new UsageError(`${action} needs --name`);
      if (!values.office) throw new UsageError(`${action} needs --office (an office id such as psc-tk-01)`);
      if (action === 'invite') {
        if (!values.role || !(OPERATOR_ROLES as readonly string[]).includes(values.role)) {
          throw new UsageError(`invite needs --role, one of ${OPERATOR_ROLES.join(', ')}`);
        }
        role = values.role as OperatorRole;
      }
    }
    return withDatabase('operator', values.config, async (database, config) => {
      if (action === 'list') {
        const rows = await database.db.selectFrom('operators').selectAll().orderBy('office_id').orderBy('name').execute();
        for (const o of rows) console.log([o.id.padEnd(20), o.role.padEnd(10), o.status.padEnd(8), o.office_id.padEnd(20), o.name].join(' '));
        if (rows.length === 0) console.log('no operators yet: start with tasdiq operator create-admin');
        return 0;
      }
      const office = await database.db.selectFrom('offices').select('id').where('id', '=', values.office!).executeTakeFirst();
      if (!office) {
        console.error(`tasdiq operator: no office "${values.office}" in ${database.location}; offices are loaded by 'tasdiq serve --demo' (demo) or by your office import`);
        return 1;
      }
      const invitation = await inviteOperator(
        database.db,
        { name: values.name!.trim(), role, officeId: values.office!, createdBy: 'cli', createdByOffice: null, publicUrl: config.publicUrl },
        Date.now(),
      );
      console.log(`Operator ${invitation.operator.id} (${role}, ${values.office}) created.`);
      console.log(`Open this link within 24 hours to register a passkey; it works once:`);
      console.log(`  ${invitation.registrationUrl}`);
      return 0;
    });
  },
};
