// Renders the card exactly as hubspot.extend does (context and actions from HubSpot's mocks), with a fake
// hubspot.fetch in place of HubSpot's.
import type { TextAreaProps } from '@hubspot/ui-extensions';
import { createRenderer, type RenderedElementNode } from '@hubspot/ui-extensions/testing';
import { renderPartnerAttributionCard } from '../PartnerAttributionCard';
import { fakeFetch, readText } from './card-test-kit';

export function renderCard(fetch = fakeFetch()) {
  const renderer = createRenderer('crm.record.tab');
  renderer.render(renderPartnerAttributionCard({ context: renderer.mocks.context, actions: renderer.mocks.actions }, fetch));
  return {
    ...renderer,
    fetch,
    /** Everything the card shows as text, in order. */
    cardText: () => readText(renderer.getRootNode()),
    /** The deal id HubSpot's mock context gives the card (context.crm.objectId). */
    dealId: String(renderer.mocks.context.crm.objectId),
  };
}

/** Types into a TextArea (trigger's types expect the handler, not its argument). */
export const typeInto = (textArea: RenderedElementNode<TextAreaProps>, text: string) =>
  textArea.trigger('onChange', text as unknown as TextAreaProps['onChange']);
