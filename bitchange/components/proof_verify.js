// Checks a BitChange proof of liabilities in the browser (docs/proof-of-liabilities.md):
// SHA-256 by SubtleCrypto, sums as BigInt (u128 big-endian). The same checks as
// tools/verify_liabilities.py; returns a sentence, starting "Validated" or "INVALID".
(function () {
  const FORMAT = "bitchange-proof-of-liabilities/1";
  const MAX_SUM = 1n << 128n;
  const MAX_AMOUNT = 1n << 63n;
  const HEX64 = /^[0-9a-f]{64}$/;
  const DIGITS = /^(0|[1-9][0-9]*)$/;

  class Invalid extends Error {}

  const amount = (text, what, limit = MAX_SUM) => {
    if (typeof text !== "string" || !DIGITS.test(text)) {
      throw new Invalid(`${what} is not a non-negative whole number`);
    }
    const value = BigInt(text);
    if (value >= limit) throw new Invalid(`${what} is out of range`);
    return value;
  };
  const vector = (values, width, what, limit = MAX_SUM) => {
    if (!Array.isArray(values) || values.length !== width) {
      throw new Invalid(`${what} must list one amount per asset (${width})`);
    }
    return values.map((v, i) => amount(v, `${what}[${i}]`, limit));
  };
  const hexBytes = (text, what) => {
    if (typeof text !== "string" || !HEX64.test(text)) {
      throw new Invalid(`${what} is not a 32-byte hex hash`);
    }
    return Uint8Array.from(text.match(/../g).map((b) => parseInt(b, 16)));
  };
  const toHex = (bytes) =>
    Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const uint = (value, size) => {
    const out = new Uint8Array(size);
    let v = BigInt(value);
    for (let i = size - 1; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return out;
  };
  const concat = (parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  const sums = (values) => concat(values.map((v) => uint(v, 16)));
  const sha256 = async (bytes) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const shown = (value, decimals) => {
    const text = value.toString().padStart(decimals + 1, "0");
    const whole = text.slice(0, text.length - decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    return decimals ? `${whole}.${text.slice(text.length - decimals)}` : whole;
  };

  async function check(proof) {
    if (!proof || proof.format !== FORMAT) throw new Invalid(`not a ${FORMAT} proof`);
    const { snapshot, account, leaves } = proof;
    if (!snapshot || !account || !Array.isArray(leaves) || !leaves.length) {
      throw new Invalid("the proof needs a snapshot, an account and at least one leaf");
    }
    const assets = snapshot.assets;
    const width = assets.length;
    const root = hexBytes(snapshot.root, "the snapshot root");
    const totals = vector(snapshot.totals, width, "the snapshot totals");
    const leafCount = snapshot.leaf_count;
    if (!Number.isInteger(leafCount) || leafCount < 2 || (leafCount & (leafCount - 1))) {
      throw new Invalid("the leaf count must be a power of two, at least 2");
    }
    const depth = Math.log2(leafCount);
    const userId = account.user_id;
    if (!Number.isSafeInteger(userId) || userId <= 0) throw new Invalid("bad account id");
    const nonce = hexBytes(account.nonce, "the account nonce");
    const claimed = vector(account.balances, width, "the account balances", MAX_AMOUNT);
    const counted = new Array(width).fill(0n);
    const positions = new Set();
    const partsSeen = new Set();
    let partsTotal = null;
    for (const [n, leaf] of leaves.entries()) {
      const { position, part, parts, path } = leaf;
      if (!Number.isInteger(position) || position < 0 || position >= leafCount ||
          positions.has(position)) {
        throw new Invalid(`leaf ${n}: bad position`);
      }
      positions.add(position);
      if (!Number.isInteger(part) || !Number.isInteger(parts) || part < 0 || part >= parts ||
          (partsTotal !== null && parts !== partsTotal)) {
        throw new Invalid(`leaf ${n}: part numbering is inconsistent`);
      }
      partsTotal = parts;
      partsSeen.add(part);
      const amounts = vector(leaf.amounts, width, `leaf ${n} amounts`, MAX_AMOUNT);
      if (!Array.isArray(path) || path.length !== depth) {
        throw new Invalid(`leaf ${n}: the path must have ${depth} steps`);
      }
      let node = await sha256(concat([Uint8Array.of(0), nonce, uint(userId, 8),
        uint(part, 4), uint(parts, 4), sums(amounts)]));
      let nodeSums = amounts;
      let index = position;
      for (const [level, step] of path.entries()) {
        const sibling = hexBytes(step.hash, `leaf ${n}: path step ${level} hash`);
        const siblingSums = vector(step.sums, width, `leaf ${n}: path step ${level} sums`);
        node = await sha256(index % 2 === 0
          ? concat([Uint8Array.of(1), node, sums(nodeSums), sibling, sums(siblingSums)])
          : concat([Uint8Array.of(1), sibling, sums(siblingSums), node, sums(nodeSums)]));
        nodeSums = nodeSums.map((v, i) => v + siblingSums[i]);
        if (nodeSums.some((v) => v >= MAX_SUM)) throw new Invalid(`leaf ${n}: sums overflow`);
        index = Math.floor(index / 2);
      }
      if (!same(node, root)) {
        throw new Invalid(`leaf ${n} (position ${position}) does not lead to the root`);
      }
      if (nodeSums.some((v, i) => v !== totals[i])) {
        throw new Invalid(`leaf ${n}: the sums at the root differ from the published totals`);
      }
      amounts.forEach((v, i) => { counted[i] += v; });
    }
    if (partsSeen.size !== partsTotal || leaves.length !== partsTotal) {
      throw new Invalid("some of the account's leaves are missing from the proof");
    }
    if (counted.some((v, i) => v !== claimed[i])) {
      throw new Invalid("the leaves do not add up to the account balances the proof states");
    }
    const mine = claimed.map((v, i) => [v, assets[i]]).filter(([v]) => v > 0n)
      .map(([v, a]) => `${shown(v, a.decimals)} ${a.code}`).join(" and ") || "a zero balance";
    const all = totals.map((v, i) => `${assets[i].code} ${shown(v, assets[i].decimals)}`)
      .join(", ");
    return `Validated ${mine} for your account (#${userId}) under root ${toHex(root)}; ` +
      `total liabilities ${all}`;
  }

  window.bitchangeProof = {
    async verify(text) {
      if (!window.crypto || !window.crypto.subtle) {
        return "Not checked: this page is not on HTTPS, so the browser offers no SHA-256 here; " +
          "download the proof and run the verifier script.";
      }
      try {
        return await check(JSON.parse(text));
      } catch (error) {
        return `INVALID proof: ${error.message}`;
      }
    },
  };
})();
