import type { Db } from '../../platform/db/index.ts';
import type { Logger } from '../../platform/logger.ts';
import { renderText } from '../templates.ts';
import { DeliveryError, type Channel, type DeliveryResult, type OutgoingMessage, type SmsTransport } from './channel.ts';

const E164 = /^\+[1-9]\d{7,14}$/;

/** Renders a message in the recipient's language and hands it to an SMS transport. */
export class SmsChannel implements Channel {
  readonly #transport: SmsTransport;

  constructor(transport: SmsTransport) {
    this.#transport = transport;
  }

  async deliver(message: OutgoingMessage): Promise<DeliveryResult> {
    if (!E164.test(message.recipient)) throw new DeliveryError('recipient is not an E.164 number', { permanent: true });
    const { text, segments } = renderText(message.kind, message.locale, message.params);
    const sent = await this.#transport.send(message.id, message.recipient, text);
    // The SMPP client says how many parts it submitted; an aggregator splits as counted here.
    return { route: sent.route, refs: sent.refs, segments: sent.segments ?? segments };
  }

  close(): Promise<void> {
    return this.#transport.close();
  }
}

/**
 * DEVELOPMENT ONLY. Stands in for an SMSC when none is configured: the rendered text goes to
 * the `notify_dev_inbox` table (read at GET /api/v1/dev/messages) and the log gets an opaque
 * line with the message id and kind, never the text, which holds codes.
 */
export class DevInboxChannel implements Channel {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #now: () => number;

  constructor(db: Db, logger: Logger, now: () => number) {
    this.#db = db;
    this.#logger = logger;
    this.#now = now;
  }

  async deliver(message: OutgoingMessage): Promise<DeliveryResult> {
    const rendered = renderText(message.kind, message.locale, message.params);
    await this.#db
      .insertInto('notify_dev_inbox')
      .values({
        id: message.id,
        message_id: message.id,
        recipient: message.recipient,
        kind: message.kind,
        text: rendered.text,
        segments: rendered.segments,
        created_at: this.#now(),
      })
      // A retry after a crash between insert and record must not show the text twice.
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    this.#logger.info({ messageId: message.id, kind: message.kind, segments: rendered.segments }, 'development SMS stored in the dev inbox (not sent)');
    return { route: 'dev', refs: [], delivered: true, segments: rendered.segments };
  }
}
