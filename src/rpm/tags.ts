// Tag numbers of the RPM header format (rpm: include/rpm/rpmtag.h). The signature
// header has its own tag space, so its numbers live apart from the main header's.

export const Sig = {
  SIZE: 1000,
  PAYLOADSIZE: 1007,
  LONGSIZE: 270,
  LONGARCHIVESIZE: 271,
  /** Digests (rpm: docs/manual/signatures_digests.md): of the main header, hex strings. */
  SHA1: 269,
  SHA256: 273,
  SHA3_256: 279,
  /** Of main header + payload: 16 binary bytes. */
  MD5: 1004,
  /**
   * OpenPGP signatures (signatures.ts): of the main header (binary packets; rpm 6's
   * OPENPGP is a string array of base64 packets), and of main header + payload.
   */
  DSAHEADER: 267,
  RSAHEADER: 268,
  OPENPGP: 278,
  PGP: 1002,
  GPG: 1005,
} as const;

export const Tag = {
  HEADERI18NTABLE: 100,
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  SUMMARY: 1004,
  DESCRIPTION: 1005,
  BUILDTIME: 1006,
  BUILDHOST: 1007,
  SIZE: 1009,
  VENDOR: 1011,
  LICENSE: 1014,
  PACKAGER: 1015,
  GROUP: 1016,
  URL: 1020,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  FILEMODES: 1030,
  FILEDIGESTS: 1035,
  FILEFLAGS: 1037,
  SOURCERPM: 1044,
  ARCHIVESIZE: 1046,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  REQUIREVERSION: 1050,
  CONFLICTFLAGS: 1053,
  CONFLICTNAME: 1054,
  CONFLICTVERSION: 1055,
  CHANGELOGTIME: 1080,
  CHANGELOGNAME: 1081,
  CHANGELOGTEXT: 1082,
  OBSOLETENAME: 1090,
  SOURCEPACKAGE: 1106,
  PROVIDEFLAGS: 1112,
  PROVIDEVERSION: 1113,
  OBSOLETEFLAGS: 1114,
  OBSOLETEVERSION: 1115,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  OLDSUGGESTSNAME: 1156,
  OLDSUGGESTSVERSION: 1157,
  OLDSUGGESTSFLAGS: 1158,
  OLDENHANCESNAME: 1159,
  OLDENHANCESVERSION: 1160,
  OLDENHANCESFLAGS: 1161,
  LONGSIZE: 5009,
  RECOMMENDNAME: 5046,
  RECOMMENDVERSION: 5047,
  RECOMMENDFLAGS: 5048,
  SUGGESTNAME: 5049,
  SUGGESTVERSION: 5050,
  SUGGESTFLAGS: 5051,
  SUPPLEMENTNAME: 5052,
  SUPPLEMENTVERSION: 5053,
  SUPPLEMENTFLAGS: 5054,
  ENHANCENAME: 5055,
  ENHANCEVERSION: 5056,
  ENHANCEFLAGS: 5057,
  /** Hex digest of the (compressed) payload, and its OpenPGP hash algorithm id. */
  PAYLOADDIGEST: 5092,
  PAYLOADDIGESTALGO: 5093,
} as const;

/** Header data types (rpm: lib/header.cc typeSizes). */
export const Type = {
  NULL: 0,
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** Dependency sense flags (rpm: include/rpm/rpmds.h). */
export const Sense = {
  LESS: 1 << 1,
  GREATER: 1 << 2,
  EQUAL: 1 << 3,
  PREREQ: 1 << 6,
  SCRIPT_PRE: 1 << 9,
  SCRIPT_POST: 1 << 10,
  MISSINGOK: 1 << 19,
  STRONG: 1 << 27,
} as const;

export const FILE_GHOST = 1 << 6;

/**
 * The type rpm gives each main-header tag it knows (rpm: include/rpm/rpmtag.h, the
 * typed tags that are neither "internal" nor "unimplemented", as its tag table holds
 * them). rpm refuses a package whose main header stores one of these with another
 * type ("tag[N]: BAD"), but for string tags stored as any string type; so do we, or a
 * package dnf cannot install would be listed. Tags it does not know are let through.
 */
const TAG_TYPES: Uint8Array = typesOf({
  [Type.CHAR]: [1029],
  [Type.INT16]: [1030, 1033],
  [Type.INT32]: [
    257, 277, 1003, 1006, 1008, 1009, 1028, 1034, 1037, 1045, 1046, 1048, 1051, 1052, 1053, 1068, 1069, 1080, 1095, 1096,
    1106, 1112, 1114, 1116, 1119, 1127, 1128, 1129, 1134, 1140, 1141, 1143, 1144, 1145, 1158, 1161, 1195, 5011, 5017,
    5018, 5019, 5020, 5021, 5022, 5023, 5024, 5025, 5026, 5027, 5032, 5033, 5037, 5045, 5048, 5051, 5054, 5057, 5068,
    5070, 5072, 5078, 5080, 5082, 5084, 5085, 5091, 5093, 5107, 5108,
  ],
  [Type.INT64]: [270, 271, 5008, 5009],
  [Type.STRING]: [
    269, 273, 1000, 1001, 1002, 1007, 1010, 1011, 1014, 1015, 1020, 1021, 1022, 1023, 1024, 1025, 1026, 1044, 1064, 1079,
    1094, 1122, 1123, 1124, 1125, 1126, 1132, 1151, 1152, 1155, 1196, 5012, 5013, 5014, 5015, 5016, 5034, 5062, 5096,
    5098, 5099, 5100, 5101, 5103, 5104,
  ],
  [Type.BIN]: [259, 261, 262, 267, 268, 1012, 1013, 1043, 1146],
  [Type.STRING_ARRAY]: [
    100, 266, 276, 1018, 1019, 1027, 1035, 1036, 1039, 1040, 1047, 1049, 1050, 1054, 1055, 1059, 1060, 1061, 1062, 1065,
    1066, 1067, 1081, 1082, 1085, 1086, 1087, 1088, 1089, 1090, 1091, 1092, 1097, 1098, 1099, 1113, 1115, 1117, 1118,
    1120, 1121, 1133, 1135, 1142, 1147, 1148, 1149, 1150, 1153, 1154, 1156, 1157, 1159, 1160, 5000, 5001, 5002, 5005,
    5006, 5007, 5010, 5030, 5031, 5035, 5036, 5040, 5041, 5042, 5043, 5044, 5046, 5047, 5049, 5050, 5052, 5053, 5055,
    5056, 5058, 5059, 5060, 5061, 5066, 5067, 5069, 5071, 5076, 5077, 5079, 5081, 5086, 5087, 5088, 5089, 5090, 5092,
    5097, 5105, 5106,
  ],
  [Type.I18NSTRING]: [1004, 1005, 1016],
});

/** The type rpm gives a main-header tag, or Type.NULL for a tag it does not know. */
export const knownType = (tag: number): number => (tag < TAG_TYPES.length ? TAG_TYPES[tag] : Type.NULL);

/** A table indexed by tag: a lookup per index entry of every header read. */
function typesOf(byType: Record<number, number[]>): Uint8Array {
  const tags = Object.values(byType).flat();
  const types = new Uint8Array(Math.max(...tags) + 1);
  for (const [type, tags] of Object.entries(byType)) {
    for (const tag of tags) {
      if (types[tag] !== Type.NULL) throw new Error(`tag ${tag} is given two types`);
      types[tag] = Number(type);
    }
  }
  return types;
}

/** What rpm holds a signature tag to. */
export interface SignatureTagRule {
  /** Its type. */
  type: number;
  /** The tag rpm copies it to in the main header, which the main header may not hold itself. */
  mainTag: number;
  /** Its count, if it is one value. */
  count?: number;
  /** Its size in bytes, for the digests rpm checks. */
  size?: number;
  /** The main header may hold `mainTag` when the signature header lacks this tag (rpm 4.14 moved it there). */
  eitherHeader?: boolean;
}

/**
 * The signature tags rpm reads, as it holds them when it merges them into the main
 * header (rpm: lib/package.c, headerMergeLegacySigs' xlateTags; "invalid signature tag
 * X" otherwise) and checks the digests among them (lib/rpmvs.c, rpmvfytags: "Header
 * SHA256 digest: BAD (package tag 273: invalid size 64)").
 */
export const SIGNATURE_TAG_RULES: ReadonlyMap<number, SignatureTagRule> = new Map([
  [Sig.SIZE, { type: Type.INT32, mainTag: 257, count: 1 }],
  [Sig.PGP, { type: Type.BIN, mainTag: 259 }],
  [Sig.MD5, { type: Type.BIN, mainTag: 261, size: 16 }],
  [Sig.GPG, { type: Type.BIN, mainTag: 262 }],
  [Sig.PAYLOADSIZE, { type: Type.INT32, mainTag: 1046, count: 1, eitherHeader: true }],
  [274, { type: Type.STRING_ARRAY, mainTag: 5090, eitherHeader: true }], // FILESIGNATURES
  [275, { type: Type.INT32, mainTag: 5091, count: 1, eitherHeader: true }], // FILESIGNATURELENGTH
  [276, { type: Type.STRING_ARRAY, mainTag: 276 }], // VERITYSIGNATURES
  [277, { type: Type.INT32, mainTag: 277, count: 1 }], // VERITYSIGNATUREALGO
  [Sig.SHA1, { type: Type.STRING, mainTag: Sig.SHA1, count: 1, size: 41 }],
  [Sig.SHA256, { type: Type.STRING, mainTag: Sig.SHA256, count: 1, size: 65 }],
  [Sig.SHA3_256, { type: Type.STRING, mainTag: Sig.SHA3_256, count: 1, size: 65 }],
  [Sig.DSAHEADER, { type: Type.BIN, mainTag: Sig.DSAHEADER }],
  [Sig.RSAHEADER, { type: Type.BIN, mainTag: Sig.RSAHEADER }],
  [Sig.LONGSIZE, { type: Type.INT64, mainTag: 270, count: 1 }],
  [Sig.LONGARCHIVESIZE, { type: Type.INT64, mainTag: 271, count: 1 }],
]);

/** Whether a type is one of the three string types, which rpm lets stand for each other. */
export const isStringType = (type: number): boolean => type === Type.STRING || type === Type.STRING_ARRAY || type === Type.I18NSTRING;
