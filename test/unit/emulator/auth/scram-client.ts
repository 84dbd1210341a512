// A minimal SCRAM client (the driver's algorithm) for driving the server side in unit tests.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { scramPasswordInput, type ScramMechanism } from '../../../../emulator/src/auth/scram';

const ALGORITHMS = { 'SCRAM-SHA-1': ['sha1', 20], 'SCRAM-SHA-256': ['sha256', 32] } as const;

export class ScramTestClient {
  readonly clientNonce: string;
  readonly clientFirstBare: string;
  private serverSignature: Buffer | undefined;

  constructor(
    private readonly mechanism: ScramMechanism,
    private readonly user: string,
    private readonly password: string,
    clientNonce = randomBytes(24).toString('base64'),
  ) {
    this.clientNonce = clientNonce;
    this.clientFirstBare = `n=${user},r=${clientNonce}`;
  }

  clientFirst(): string {
    return `n,,${this.clientFirstBare}`;
  }

  clientFinal(serverFirst: string): string {
    const [algorithm, length] = ALGORITHMS[this.mechanism];
    const fields = new Map(serverFirst.split(',').map((part) => [part[0], part.slice(2)]));
    const salted = pbkdf2Sync(
      scramPasswordInput(this.mechanism, this.user, this.password),
      Buffer.from(fields.get('s')!, 'base64'),
      Number(fields.get('i')),
      length,
      algorithm,
    );
    const withoutProof = `c=biws,r=${fields.get('r')}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const clientKey = createHmac(algorithm, salted).update('Client Key').digest();
    const storedKey = createHash(algorithm).update(clientKey).digest();
    const signature = createHmac(algorithm, storedKey).update(authMessage).digest();
    const proof = Buffer.from(clientKey.map((byte, i) => byte ^ signature[i]));
    const serverKey = createHmac(algorithm, salted).update('Server Key').digest();
    this.serverSignature = createHmac(algorithm, serverKey).update(authMessage).digest();
    return `${withoutProof},p=${proof.toString('base64')}`;
  }

  verifyServerFinal(serverFinal: string): boolean {
    return serverFinal === `v=${this.serverSignature?.toString('base64')}`;
  }
}
