/** Kinds of chat message the harness sends (a driver declares which it can carry). */
export type MessageKind = 'text' | 'emoji' | 'long-text' | 'image' | 'file';

/** Every {@link MessageKind}, in report order. */
export const MESSAGE_KINDS: readonly MessageKind[] = ['text', 'emoji', 'long-text', 'image', 'file'];
