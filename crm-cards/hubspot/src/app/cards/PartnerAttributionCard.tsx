// The partner attribution card on the deal record: is there a partner on this deal, can I work this
// account, what do I owe? It renders dealreg's CardView (card-view-model.ts) and computes nothing: after
// an action, the view dealreg answers with replaces the old one.
import { useCallback, useEffect, useRef, useState } from 'react';
import { Divider, Flex, hubspot } from '@hubspot/ui-extensions';
import type { AddAlertAction, ExtensionPointApi } from '@hubspot/ui-extensions';
import type { CardAction, CardView } from './card-view-model';
import { AttributionTable } from './components/attribution-table';
import { EmptyCard, LoadErrorCard, LoadingCard } from './components/card-states';
import { RegistrationActions } from './components/registration-actions';
import { RegistrationSummary } from './components/registration-summary';
import { DEALREG_BASE_URL } from './config';
import { type CardFetch, DealregCallError, fetchCardView, postCardAction } from './dealreg-client';

export interface PartnerAttributionCardProps {
  /** The deal record's id (`context.crm.objectId`). */
  dealId: string;
  hubspotFetch: CardFetch;
  addAlert: AddAlertAction;
  baseUrl?: string;
}

type Loaded = { phase: 'loading' } | { phase: 'failed'; message: string } | { phase: 'ready'; view: CardView; version: number };

export function PartnerAttributionCard({ dealId, hubspotFetch, addAlert, baseUrl = DEALREG_BASE_URL }: PartnerAttributionCardProps) {
  const [loaded, setLoaded] = useState<Loaded>({ phase: 'loading' });
  const [attempt, setAttempt] = useState(0);
  const [pending, setPending] = useState<CardAction['id'] | null>(null);
  const [actionError, setActionError] = useState<{ label: string; message: string } | null>(null);
  const versions = useRef(0);

  useEffect(() => {
    let current = true;
    fetchCardView(hubspotFetch, baseUrl, dealId).then(
      (view) => current && setLoaded({ phase: 'ready', view, version: ++versions.current }),
      (err: unknown) => current && setLoaded({ phase: 'failed', message: messageOf(err) }),
    );
    return () => {
      current = false;
    };
  }, [hubspotFetch, baseUrl, dealId, attempt]);

  const retry = useCallback(() => {
    setLoaded({ phase: 'loading' });
    setAttempt((n) => n + 1);
  }, []);

  if (loaded.phase === 'loading') return <LoadingCard />;
  if (loaded.phase === 'failed') return <LoadErrorCard message={loaded.message} onRetry={retry} />;
  const { view } = loaded;
  if (view.kind === 'empty') return <EmptyCard title={view.title} message={view.message} />;
  const { registration } = view;

  const run = async (action: CardAction, reason?: string) => {
    setPending(action.id);
    setActionError(null);
    try {
      const result = await postCardAction(hubspotFetch, baseUrl, {
        dealId,
        registrationId: registration.id,
        action: action.id,
        reason: action.requiresReason ? reason : undefined,
        extensionRequestId: action.extensionRequestId,
      });
      setLoaded({ phase: 'ready', view: result.view, version: ++versions.current });
      const status = result.view.kind === 'registration' ? ` The registration is now ${result.view.registration.statusLabel}.` : '';
      addAlert({ type: 'success', title: action.label, message: `Done.${status}` });
    } catch (err) {
      setActionError({ label: action.label, message: messageOf(err) });
    } finally {
      setPending(null);
    }
  };

  return (
    <Flex direction="column" gap="medium">
      <RegistrationSummary registration={registration} />
      <Divider />
      <AttributionTable attribution={registration.attribution} />
      <RegistrationActions
        // A new view starts the actions afresh (no reason form left open after a reject).
        key={loaded.version}
        actions={registration.actions}
        actionsNote={registration.actionsNote}
        pending={pending}
        error={actionError}
        onRun={(action, reason) => void run(action, reason)}
      />
    </Flex>
  );
}

const messageOf = (err: unknown) =>
  err instanceof DealregCallError ? err.message : `Something went wrong: ${err instanceof Error ? err.message : String(err)}`;

/** What HubSpot renders: the deal from the record's context, alerts from the host, requests through hubspot.fetch. */
export function renderPartnerAttributionCard(
  { context, actions }: Pick<ExtensionPointApi<'crm.record.tab'>, 'context' | 'actions'>,
  hubspotFetch: CardFetch = hubspot.fetch,
) {
  return <PartnerAttributionCard dealId={String(context.crm.objectId)} hubspotFetch={hubspotFetch} addAlert={actions.addAlert} />;
}

hubspot.extend<'crm.record.tab'>((api) => renderPartnerAttributionCard(api));
