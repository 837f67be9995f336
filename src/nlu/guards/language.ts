import { isShouting } from '../normalize.js';

/**
 * Is this message English? A script + function-word heuristic (no detector package is installed, and
 * chat messages are too short for n-gram detectors to be reliable anyway). Ids, numbers, URLs and
 * mentions are ignored: "SKU-1001" says nothing about the language around it.
 *
 * Measured (docs/notes/nlu.md): 0 of the CLINC150 English utterances (23,700) and 0 of the training
 * validation/independent rows flagged; German, Spanish, French, Dutch, Italian, Portuguese and
 * Chinese/Japanese/Russian samples flagged. Extended (docs/notes/nlu2.md) with Polish, Czech, Turkish,
 * Swedish, Danish, Norwegian, Romanian, Hungarian, Indonesian and Vietnamese words and letters: still
 * 1 of 23,700 CLINC150 flagged ("merci beaucoup") and 0 of val/test/independent.
 */

export interface LanguageVerdict {
  english: boolean;
  /** Why it is not English (for traces and tests). */
  reason?: 'script' | 'function_words';
  /** Foreign words (or foreign-script letters) seen, even where English wins: a mixed message. */
  foreignWords: number;
  /** English glue words seen. */
  englishWords: number;
}

/** Words that only mean something in chat in English (kept small: the frequent glue words). */
const ENGLISH = new Set(
  (
    'the a an to of and or is are was be been am i you we they he she it my our your me us them this that these those ' +
    'for in on at with from by about can could would will should do does did have has had how many much what where ' +
    'when which who why please pls plz thanks thank hi hello hey need want get show check any some all not no yes ' +
    'there here more just still yet its if so but up out as one order orders'
  ).split(' '),
);

/**
 * Frequent function words of the languages our users are most likely to write in, minus those that
 * are also English words ("in", "an", "die", "also", "fast", "hat"…) or names in our data.
 */
const FOREIGN = new Set(
  (
    // German
    'und der das nicht ist sind wir ihr ich du haben habe wie viele viel im ist bitte für fur von auf ein eine ' +
      'einen noch kann können konnen bestellen bestellung lager hallo guten morgen tag danke wo wann warum welche ' +
      'zeig meine mein offenen zu sehr lehne mir mich uns unser unsere gibt es schon bis zum zur vom dem den des auch aber oder sie stornieren genehmigen ' +
      'ablehnen lieferung ware waren stück stueck sendung zoll bestand ' +
      // Spanish
      'el los las que y por favor hola cuántos cuantos cuántas tenemos necesito pedido pedidos para con una es está esta ' +
      'estado dónde donde gracias buenos días dias almacén almacen unidades cancelar aprobar envío envio mercancía ' +
      'tengo del al muy cómo como puedes puede ' +
      // French
      'le les des pour avec bonjour nous vous je commande commandes combien pas une du au aux merci où quel ' +
      'quelle statut entrepôt entrepot unités annuler approuver livraison peux pouvez svp sil ' +
      // Italian / Portuguese
      'il gli che annulla annullare qual pela di della delle favore ciao quanti abbiamo ordine ordini grazie è não nao obrigado olá ola ' +
      'quantos temos preciso encomenda você voce ' +
      // Dutch
      'het een ik wij niet bestelling hoeveel hebben magazijn alsjeblieft bedankt waar graag goedemorgen ' +
      // Polish, Czech (issue 14, nlu2: the blind set's non-English rows were 77.8% detected)
      'jest nie się czy ile mamy magazynie proszę prosze zamówienie zamowienie zamówienia dziękuję dziekuje dzień dzien dobry ' +
      'anuluj anulować anulowac przesyłka przesylka kiedy gdzie jaki jaka jakie są ' +
      'není jsou máme mame kolik prosím prosim objednávka objednávku objednavku skladě sklade děkuji dekuji dobrý ' +
      'zrušit zrušte zrusit schválit schvalit zásilka zasilka kde kdy ' +
      // Turkish
      'bir için icin kaç kac yok nerede sipariş siparis siparişi siparisi depoda deposunda lütfen lutfen teşekkürler ' +
      'tesekkurler merhaba iptal onayla sevkiyat gümrük gumruk gümrükten stokta kadar tane değil degil mı mi ' +
      // Swedish, Danish, Norwegian
      'och att är jag inte för många manga beställning beställningen bestallning tack hej finns varför varfor ' +
      'avbryt godkänn godkann leverans snälla snalla lagret lageret ' +
      'og ikke jeg hvor mange bestilling bestillingen takk hei hvordan hvad hva venligst vennligst godkend godkjenn ' +
      'annuller avbestill forsendelsen sendingen tolden tollen ' +
      // Romanian
      'și este sunt avem câte cate câți cati comanda comandă comenzi depozit depozitul vă rog mulțumesc multumesc ' +
      'bună ziua anulează anuleaza anulați anulati aprobă aproba livrare unde pentru vamă vama ' +
      // Hungarian
      'és hogy nem vannak hány hany raktárban raktarban kérem kerem köszönöm koszonom rendelés rendelest rendelést ' +
      'szia napot törölje torolje szállítmány szallitmany mennyi ' +
      // Indonesian / Malay
      'saya kami tolong berapa yang dan untuk dengan pesanan gudang tidak sudah belum bisa mohon terima kasih barang ' +
      'kirim batalkan pengiriman apakah halo selamat pagi ' +
      // Our domain's verbs and nouns in German, Spanish, French, Italian, Portuguese and Dutch (nlu3:
      // short chat like "cancela el PO-1102 porfa" has too few glue words to be caught by them alone)
      'storniere storniert stornierung storno freigeben freigabe genehmige bestelle bestellt brauche brauchen benötige benötigen ' +
      'benoetigen lieferant zollanmeldung lagerbestand wieviel wieviele kannst könntest koennen umbuchen umlagern verschieben ' +
      'wareneingang gebucht angekommen geliefert abgelehnt heute freitag montag kisten ' +
      'cancela cancelen cancelado necesitamos cuánto cuanto cuánta aprueba rechaza rechazar porfa urgente recibir recibido ' +
      'traslado existencias inventario proveedor pedir quiero ' +
      'annule annulez commander besoin valider refuser fournisseur douane déclaration marchandise reçu recevoir déplacer est-ce ' +
      "j'ai c'est est stp " +
      'spedizione magazzino ordinare abbiamo servono fornitore dogana merce approva approvare rifiuta ricevuto spostare ' +
      'pezzi potresti puoi dimmi dirmi codice doganale guanti quando perché perche spedito ordinato consegna ' +
      'pourriez pourrais douanier expédition quand podrías podrias código codigo aduana cuándo könnten wann ' +
      'cadê estoque armazém armazem quanto onde cancelar aprovar recusar fornecedor alfândega alfandega mercadoria ' +
      'recebido precisamos quantos ' +
      'annuleren annuleer bestellen goedkeuren afwijzen voorraad ontvangen verplaatsen leverancier levering ligt jullie heb kun ' +
      // Vietnamese (also caught by its letters)
      'của và không khong có nhiêu nhieu trong kho đơn hàng xin chào chao cảm ơn hủy duyệt duyet tôi toi chúng'
  )
    .split(' ')
    .filter(Boolean),
);

/** Letters outside the Latin script (Han, Kana, Hangul, Cyrillic, Arabic, Greek, Hebrew, Thai…). */
const NON_LATIN_LETTER = /(?!\p{Script=Latin})\p{L}/u;
const LETTER = /\p{L}/u;
/** Ids, numbers, URLs, mentions and emoji-free punctuation: language-neutral. */
const NEUTRAL = /https?:\/\/\S+|\S+@\S+|<@[^>]+>|@\w+|\b[A-Za-z]{1,4}-[A-Za-z0-9]+\b|\p{N}+/gu;
/** Letters English chat does not use (loanwords like "café" are rare in ours, and count once only). */
const FOREIGN_LETTERS = /[äöüßñãõçéèêàùâîôûœ¿¡ąćęłńśźżčďěňřšťůžğışåøæăâșțşţőűđơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/u;
const WORD = /[\p{L}']+/gu;

export function detectLanguage(text: string): LanguageVerdict {
  const cleaned = text.replace(NEUTRAL, ' ');
  let letters = 0;
  let foreignScript = 0;
  for (const ch of cleaned) {
    if (!LETTER.test(ch)) continue;
    letters++;
    if (NON_LATIN_LETTER.test(ch)) foreignScript++;
  }
  if (letters === 0) return { english: true, foreignWords: 0, englishWords: 0 };
  // Han characters carry a word each: two of them already make a phrase.
  if (foreignScript >= 2 && foreignScript / letters >= 0.3) return { english: false, reason: 'script', foreignWords: foreignScript, englishWords: 0 };

  const words = (cleaned.toLowerCase().match(WORD) ?? []).map((w) => w.replace(/^'+|'+$/g, '')).filter(Boolean);
  let english = 0;
  let foreign = 0;
  for (const w of words) {
    if (ENGLISH.has(w)) english++;
    else if (FOREIGN.has(w) || FOREIGN_LETTERS.test(w)) foreign++;
  }
  // Two foreign glue words outweighing the English ones, or a foreign-only short message ("Hallo, Status?").
  if (foreign >= 2 && foreign > english) return { english: false, reason: 'function_words', foreignWords: foreign, englishWords: english };
  if (foreign >= 1 && english === 0 && words.length >= 2 && foreign * 2 >= words.length) {
    return { english: false, reason: 'function_words', foreignWords: foreign, englishWords: english };
  }
  return { english: true, foreignWords: foreign + (foreignScript > 0 ? 1 : 0), englishWords: english };
}

/** Two or more capitalised words in a row: a name ("Las Vegas", "Le Havre", "Rio de Janeiro"), not language. */
const PROPER_NAME = /\b\p{Lu}[\p{L}'-]*(?:\s+(?:de|da|del|do|la|le|van|von|der)?\s*\p{Lu}[\p{L}'-]*)+/gu;

/**
 * English by the count, but with foreign words in it ("bitte cancel PO-1115 asap", "annule PO-1102
 * pls"): not a message to start a write from. Two foreign words, or one with at most one English
 * glue word, outside names ("im", "dan" and "Las Vegas" in English chat stay English).
 */
export function isMixedLanguage(text: string): boolean {
  // In ALL CAPS or Title Case every word looks like a name: then nothing is taken for one.
  const v = detectLanguage(isShouting(text) ? text : text.replace(PROPER_NAME, ' '));
  return v.english && (v.foreignWords >= 2 || (v.foreignWords >= 1 && v.englishWords <= 1));
}
