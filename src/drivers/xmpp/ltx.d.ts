// Types for the part of `ltx` (the XML library @xmpp/* is built on; it ships no types) this driver uses.
declare module 'ltx' {
  export class Element {
    constructor(name: string, attrs?: Record<string, string | number | undefined>);
    name: string;
    attrs: Record<string, string>;
    children: (Element | string)[];
    parent: Element | null;
    is(name: string, xmlns?: string): boolean;
    getName(): string;
    getNS(): string | undefined;
    getChild(name: string, xmlns?: string): Element | undefined;
    getChildren(name: string, xmlns?: string): Element[];
    getChildElements(): Element[];
    getText(): string;
    getChildText(name: string, xmlns?: string): string | null;
    c(name: string, attrs?: Record<string, string | number | undefined>): Element;
    cnode(child: Element): Element;
    t(text: string): Element;
    up(): Element;
    root(): Element;
    toString(): string;
  }
  export function parse(xml: string): Element;
}
