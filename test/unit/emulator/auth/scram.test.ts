import {
  ScramError,
  ScramServerConversation,
  decodeScramUsername,
  deriveScramCredential,
  parseClientFirstMessage,
} from '../../../../emulator/src/auth/scram';
import { ScramTestClient } from './scram-client';

describe('SCRAM server conversation', () => {
  it('reproduces the SCRAM-SHA-256 test vector of the MongoDB auth spec', () => {
    const credential = deriveScramCredential('SCRAM-SHA-256', 'user', 'pencil', {
      iterationCount: 4096,
      salt: Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'),
    });
    const conversation = new ScramServerConversation(
      'SCRAM-SHA-256',
      credential,
      '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    );
    const serverFirst = conversation.start(parseClientFirstMessage('n,,n=user,r=rOprNGfwEbeRWgbNEkqO'));
    expect(serverFirst).toBe(
      'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    );
    const serverFinal = conversation.finish(
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    );
    expect(serverFinal).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
  });

  it('reproduces the SCRAM-SHA-1 test vector of the MongoDB auth spec (MD5-digested password)', () => {
    const credential = deriveScramCredential('SCRAM-SHA-1', 'user', 'pencil', {
      iterationCount: 10000,
      salt: Buffer.from('rQ9ZY3MntBeuP3E1TDVC4w==', 'base64'),
    });
    const conversation = new ScramServerConversation(
      'SCRAM-SHA-1',
      credential,
      'Ho+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE',
    );
    conversation.start(parseClientFirstMessage('n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'));
    const serverFinal = conversation.finish(
      'c=biws,r=fyko+d2lbbFgONRv9qkxdawLHo+Vgk7qvUOKUwuWLIWg4l/9SraGMHEE,p=MC2T8BvbmWRckDw8oWl5IVghwCY=',
    );
    expect(serverFinal).toBe('v=UMWeI25JD1yNYZRMpZ4VHvhZ9e0=');
  });

  it.each(['SCRAM-SHA-1', 'SCRAM-SHA-256'] as const)(
    'completes %s with a driver-style client',
    (mechanism) => {
      const credential = deriveScramCredential(mechanism, 'alice', 's3cret', { iterationCount: 4096 });
      const client = new ScramTestClient(mechanism, 'alice', 's3cret');
      const conversation = new ScramServerConversation(mechanism, credential);
      const serverFirst = conversation.start(parseClientFirstMessage(client.clientFirst()));
      expect(client.verifyServerFinal(conversation.finish(client.clientFinal(serverFirst)))).toBe(true);
    },
  );

  it('rejects a proof made with the wrong password', () => {
    const credential = deriveScramCredential('SCRAM-SHA-256', 'alice', 'right', { iterationCount: 4096 });
    const client = new ScramTestClient('SCRAM-SHA-256', 'alice', 'wrong');
    const conversation = new ScramServerConversation('SCRAM-SHA-256', credential);
    const serverFirst = conversation.start(parseClientFirstMessage(client.clientFirst()));
    expect(() => conversation.finish(client.clientFinal(serverFirst))).toThrow(ScramError);
  });

  it('applies SASLprep to SHA-256 passwords', () => {
    const salt = Buffer.alloc(28, 7);
    const soft = deriveScramCredential('SCRAM-SHA-256', 'u', 'I\u00ADX', { iterationCount: 4096, salt });
    const plain = deriveScramCredential('SCRAM-SHA-256', 'u', 'IX', { iterationCount: 4096, salt });
    expect(soft.storedKey).toBe(plain.storedKey);
  });

  it('rejects a tampered nonce and decodes escaped user names', () => {
    const credential = deriveScramCredential('SCRAM-SHA-256', 'a', 'p', { iterationCount: 4096 });
    const conversation = new ScramServerConversation('SCRAM-SHA-256', credential);
    conversation.start(parseClientFirstMessage('n,,n=a,r=abc'));
    expect(() => conversation.finish('c=biws,r=other,p=AAAA')).toThrow(ScramError);
    expect(decodeScramUsername('a=2Cb=3Dc')).toBe('a,b=c');
    expect(() => parseClientFirstMessage('p=tls-unique,,n=a,r=x')).toThrow(ScramError);
  });
});
