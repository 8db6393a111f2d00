// Every test file: no outbound network except loopback. An unexpected request fails loudly.
import nock from 'nock';

nock.disableNetConnect();
nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\]|::1)(:\d+)?$/.test(host));

afterAll(() => {
  nock.cleanAll();
});
