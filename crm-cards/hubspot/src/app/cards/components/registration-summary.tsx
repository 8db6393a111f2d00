// Who the partner is, where the registration stands, how long the account is protected, and why.
import { Alert, DescriptionList, DescriptionListItem, Flex, Heading, StatusTag, Tag, Text } from '@hubspot/ui-extensions';
import type { CardRegistration } from '../card-view-model';
import { alertVariant, statusTagVariant, tagVariant } from '../tones';

export function RegistrationSummary({ registration }: { registration: CardRegistration }) {
  const { partner, protection } = registration;
  return (
    <Flex direction="column" gap="small">
      <Flex direction="row" gap="small" align="center" wrap="wrap">
        <Heading testId="partner-name">{partner.name}</Heading>
        <Tag testId="partner-type" variant="default">{partner.typeLabel}</Tag>
        <Tag testId="partner-tier" variant="info">{partner.tierLabel}</Tag>
        <Tag testId="registration-status" variant={tagVariant[registration.statusTone]}>{registration.statusLabel}</Tag>
      </Flex>
      <StatusTag testId="protection" variant={statusTagVariant[protection.tone]}>{protection.label}</StatusTag>
      <DescriptionList direction="row">
        <DescriptionListItem label="Company">
          <Text>{registration.company}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Submitted">
          <Text>{registration.submittedOn}</Text>
        </DescriptionListItem>
        <DescriptionListItem label="Partner contact">
          <PartnerContact contact={partner.contact} />
        </DescriptionListItem>
      </DescriptionList>
      <Text testId="verdict" format={{ fontWeight: 'demibold' }}>{registration.verdictLabel}</Text>
      {registration.reasons.map((reason, i) => (
        // Codes can repeat (two earlier registrations): the position is the identity.
        <Alert key={`${i}:${reason.code}`} testId={`reason-${i}`} title={reason.title} variant={alertVariant[reason.tone]}>
          {reason.detail}
        </Alert>
      ))}
      {registration.extension && <PendingExtension extension={registration.extension} />}
    </Flex>
  );
}

function PartnerContact({ contact }: { contact: CardRegistration['partner']['contact'] }) {
  const parts = [contact?.name, contact?.email].filter((p): p is string => Boolean(p));
  return <Text testId="partner-contact">{parts.length > 0 ? parts.join(' · ') : '—'}</Text>;
}

function PendingExtension({ extension }: { extension: NonNullable<CardRegistration['extension']> }) {
  return (
    <Alert testId="pending-extension" title={`Extension requested: ${extension.days} more days`} variant="info">
      {`Requested on ${extension.requestedOn}${extension.reason ? `: “${extension.reason}”` : ''}`}
    </Alert>
  );
}
