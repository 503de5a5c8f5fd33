import { describe, expect, it } from 'vitest';
import {
  ChannelClosedError,
  LimitExceededError,
  ProtocolError,
  SessionClosedError,
  isReceiver,
  isSender,
  pipe,
} from '../../src/index.js';
import { rejectionOf } from './helpers.js';

describe('isSender / isReceiver', () => {
  it('recognise the two ends of a pipe', () => {
    const [receiver, sender] = pipe<number>();
    expect(isSender(sender)).toBe(true);
    expect(isReceiver(receiver)).toBe(true);
    expect(isSender(receiver)).toBe(false);
    expect(isReceiver(sender)).toBe(false);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a number', 1],
    ['a string', 'sender'],
    ['a plain object', {}],
    ['a look-alike sender', { send: async () => {}, close: async () => {}, abort() {}, closed: Promise.resolve() }],
    ['a look-alike receiver', { receive: async () => 1, close() {}, closed: Promise.resolve(), [Symbol.asyncIterator]() {} }],
    ['a function', () => {}],
  ])('reject %s', (_, value) => {
    expect(isSender(value)).toBe(false);
    expect(isReceiver(value)).toBe(false);
  });

  it('still recognise ends that have ended', async () => {
    const [receiver, sender] = pipe<number>();
    sender.abort();
    expect(isSender(sender)).toBe(true);
    expect(isReceiver(receiver)).toBe(true);
  });
});

describe('Symbol.asyncDispose', { timeout: 5_000 }, () => {
  it('`await using` a sender closes it cleanly at scope exit', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    {
      await using scoped = sender;
      await scoped.send(1);
    }
    await expect(sender.closed).resolves.toBeUndefined();
    await expect(receiver.receive()).resolves.toBe(1);
    const error = await rejectionOf(receiver.receive());
    expect((error as ChannelClosedError).code).toBe('CLOSED');
  });

  it('`await using` a receiver closes it at scope exit', async () => {
    const [receiver, sender] = pipe<number>({ capacity: 2 });
    await sender.send(1);
    {
      await using scoped = receiver;
      await expect(scoped.receive()).resolves.toBe(1);
    }
    await expect(receiver.closed).resolves.toBeUndefined();
    const error = await rejectionOf(sender.send(2));
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).code).toBe('RECEIVER_CLOSED');
  });

  it('disposing an end that was reset does not throw', async () => {
    const [receiver, sender] = pipe<number>();
    sender.abort(new Error('reset'));
    await expect(sender[Symbol.asyncDispose]()).resolves.toBeUndefined();
    await expect(receiver[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });

  it('the scope body error wins; the sender is still closed', async () => {
    const [receiver, sender] = pipe<number>();
    const oops = new Error('body');
    const run = async (): Promise<void> => {
      await using _scoped = sender;
      throw oops;
    };
    expect(await rejectionOf(run())).toBe(oops);
    await expect(receiver.receive()).rejects.toBeInstanceOf(ChannelClosedError);
  });
});

describe('error classes', () => {
  const classes = [
    ['ChannelClosedError', ChannelClosedError, () => new ChannelClosedError('m')],
    ['SessionClosedError', SessionClosedError, () => new SessionClosedError('m')],
    ['ProtocolError', ProtocolError, () => new ProtocolError('m')],
    ['LimitExceededError', LimitExceededError, () => new LimitExceededError('m')],
  ] as const;

  it.each(classes)('%s has a stable name, a string code and is an Error', (name, Class, make) => {
    const error = make();
    expect(error).toBeInstanceOf(Class);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(Class.name).toBe(name);
    expect(typeof error.code).toBe('string');
    expect(error.code.length).toBeGreaterThan(0);
    expect(error.message).toBe('m');
    expect(String(error)).toBe(`${name}: m`);
    expect(Object.prototype.toString.call(error)).toBe('[object Error]');
  });

  it.each(classes)('%s keeps a cause and a custom code', (_, Class) => {
    const cause = new Error('under');
    const error = new Class('m', { cause, code: 'CUSTOM' });
    expect(error.cause).toBe(cause);
    expect(error.code).toBe('CUSTOM');
  });

  it.each(classes)('%s without a cause has none', (_, __, make) => {
    expect('cause' in make()).toBe(false);
  });

  it('ChannelClosedError defaults to code CLOSED', () => {
    expect(new ChannelClosedError().code).toBe('CLOSED');
  });

  it('errors from channel operations are the exported class', async () => {
    const [receiver, sender] = pipe<number>();
    await sender.close();
    const error = await rejectionOf(receiver.receive());
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as ChannelClosedError).name).toBe('ChannelClosedError');
    expect(typeof (error as ChannelClosedError).code).toBe('string');
  });
});
