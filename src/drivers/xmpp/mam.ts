/**
 * Message Archive Management queries (XEP-0313, urn:xmpp:mam:2) with Result Set Management
 * paging (XEP-0059): each page's results arrive as messages tagged with the query id before the
 * IQ result that closes the page (`<fin complete=.../>` with the last id for the next page).
 */
import { Element } from 'ltx';
import { NS, type XmppStream } from './stream.ts';

/** One archived message: its archive id and the stanza as stored. */
export interface ArchivedMessage {
  id: string;
  message: Element;
  /** When the archive says it was stored (`<delay stamp>`), ms since the epoch. */
  stampMs: number;
}

/** What to query: an archive (`to`: a room's JID, or absent for the user's own), after an id or from a time. */
export interface MamQuery {
  to?: string;
  afterId?: string;
  /** Only messages stored at or after this time (ms since the epoch). */
  startMs?: number;
  /** Newest page first, `before` this id ('' for the newest page). */
  beforeId?: string;
  max: number;
}

export interface MamPage {
  messages: ArchivedMessage[];
  complete: boolean;
  first?: string;
  last?: string;
}

/**
 * Route MAM results from a stream's `onElement` into the open queries: call
 * {@link MamCollector.take} first for each inbound message; it returns true when it consumed it.
 */
export class MamCollector {
  private readonly open = new Map<string, ArchivedMessage[]>();
  private n = 0;

  take(el: Element): boolean {
    if (el.name !== 'message') return false;
    const result = el.getChild('result', NS.mam);
    if (!result) return false;
    const into = this.open.get(result.attrs.queryid ?? '');
    if (!into) return true; // a result of a query we gave up on: not a live message either
    const fwd = result.getChild('forwarded', NS.forward);
    const message = fwd?.getChild('message');
    if (!message || !result.attrs.id) return true;
    const stamp = fwd?.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp;
    into.push({ id: result.attrs.id, message, stampMs: stamp ? Date.parse(stamp) : 0 });
    return true;
  }

  /** One page of a query. */
  async page(stream: XmppStream, q: MamQuery, timeoutMs?: number): Promise<MamPage> {
    const queryid = `mam${++this.n}`;
    const iq = new Element('iq', { type: 'set', ...(q.to === undefined ? {} : { to: q.to }) });
    const query = iq.c('query', { xmlns: NS.mam, queryid });
    if (q.startMs !== undefined) {
      const x = query.c('x', { xmlns: NS.data, type: 'submit' });
      x.c('field', { var: 'FORM_TYPE', type: 'hidden' }).c('value').t(NS.mam);
      x.c('field', { var: 'start' }).c('value').t(new Date(q.startMs).toISOString());
    }
    const set = query.c('set', { xmlns: NS.rsm });
    set.c('max').t(String(q.max));
    if (q.afterId !== undefined) set.c('after').t(q.afterId);
    if (q.beforeId !== undefined) set.c('before').t(q.beforeId);
    const into: ArchivedMessage[] = [];
    this.open.set(queryid, into);
    try {
      const res = await stream.iq(iq, timeoutMs);
      const fin = res.getChild('fin', NS.mam);
      const rsm = fin?.getChild('set', NS.rsm);
      return {
        messages: into,
        complete: fin?.attrs.complete === 'true',
        first: rsm?.getChildText('first') ?? undefined,
        last: rsm?.getChildText('last') ?? undefined,
      };
    } finally {
      this.open.delete(queryid);
    }
  }

  /** Every message of an archive after `afterId` (or from `startMs`), page by page, at most `maxPages`. */
  async all(stream: XmppStream, q: Omit<MamQuery, 'beforeId'>, maxPages = 1000, timeoutMs?: number): Promise<ArchivedMessage[]> {
    const out: ArchivedMessage[] = [];
    let after = q.afterId;
    for (let i = 0; i < maxPages; i++) {
      const page = await this.page(stream, { ...q, ...(after === undefined ? {} : { afterId: after }) }, timeoutMs);
      out.push(...page.messages);
      if (page.complete || page.messages.length === 0 || page.last === undefined) break;
      after = page.last;
    }
    return out;
  }
}
