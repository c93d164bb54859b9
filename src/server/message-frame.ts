import type { MessageFrame } from '../protocol/frames.ts';
import type { StoredMessage } from './store.ts';

/** The wire form of a stored message (field order fixed so one serialization fits all). */
export function toMessageFrame(m: StoredMessage, replay: boolean): MessageFrame {
  const f: MessageFrame = {
    t: 'msg',
    id: m.id,
    conv: m.conv,
    seq: m.seq,
    from: { account: m.fromAccount, device: m.fromDevice },
    cid: m.cid,
    kind: m.kind,
    body: m.body,
    ts: m.ts,
  };
  if (m.attachments) f.attachments = m.attachments;
  if (replay) f.replay = true;
  return f;
}
