// What the deal owes which partner: the split dealreg computed (frozen once the deal is won).
import { Flex, Heading, Table, TableBody, TableCell, TableHead, TableHeader, TableRow, Tag, Text } from '@hubspot/ui-extensions';
import type { CardRegistration } from '../card-view-model';

export function AttributionTable({ attribution }: { attribution: CardRegistration['attribution'] }) {
  return (
    <Flex direction="column" gap="extra-small">
      <Flex direction="row" gap="small" align="center">
        <Heading>Attribution</Heading>
        {attribution.frozen && <Tag testId="attribution-frozen" variant="default">Frozen when won</Tag>}
      </Flex>
      <Text testId="attribution-total">{attribution.totalLabel}</Text>
      {attribution.partners.length > 0 && (
        <Table testId="attribution-split" bordered={true}>
          <TableHead>
            <TableRow>
              <TableHeader>Partner</TableHeader>
              <TableHeader>Role</TableHeader>
              <TableHeader align="right">Share</TableHeader>
              <TableHeader align="right">Amount</TableHeader>
            </TableRow>
          </TableHead>
          <TableBody>
            {attribution.partners.map((p, i) => (
              <TableRow key={`${i}:${p.partnerId}`} testId={`split-${i}`}>
                <TableCell>
                  <Text>{p.name}</Text>
                  {p.evidence && <Text variant="microcopy">{p.evidence}</Text>}
                </TableCell>
                <TableCell>{p.roleLabel}</TableCell>
                <TableCell align="right">{`${p.percent}%`}</TableCell>
                <TableCell align="right">{p.amountLabel}</TableCell>
              </TableRow>
            ))}
          </TableBody>
        </Table>
      )}
    </Flex>
  );
}
