/** A CLOSE_WAIT socket with only its inode set apart: the attribution tests' input. */
import type { TcpSocket } from '../../src/conntrack/socket.ts';

export function closeWaitSocket(inode: number): TcpSocket {
  return {
    family: 4,
    state: 'CLOSE_WAIT',
    localAddress: '127.0.0.1',
    localPort: 1,
    remoteAddress: '127.0.0.1',
    remotePort: 2,
    txQueue: 0,
    rxQueue: 0,
    timer: 0,
    retransmits: 0,
    uid: 0,
    inode,
  };
}
