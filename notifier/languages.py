"""The sixteen languages Tocsin speaks (DESIGN §11): one row each, the one table every part reads.

The FCC's Wireless Emergency Alert languages plus Spanish. A row gives the tag Tocsin stores
(BCP 47, script subtags for Chinese), the catalog directory under `locales/`, the
LibreTranslate code, the writing direction, and the words residents text in that language
(STOP, START, YES, HELP and the language's own names). English command words are accepted
from everyone (`ANY`): carriers honour STOP and HELP in English everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

OPT_OUT = "opt_out"
OPT_IN = "opt_in"
YES = "yes"
HELP = "help"


@dataclass(frozen=True)
class Language:
    tag: str                     # as stored on residents and alert texts: "zh-Hant"
    catalog: str                 # locales/<catalog>/LC_MESSAGES/messages.po: "zh_Hant"
    english: str                 # its English name, for the README and logs
    translate_code: str          # LibreTranslate's code: zh-Hant → "zt"
    rtl: bool = False
    names: tuple[str, ...] = ()  # what a resident texts to choose it (its own names first)
    words: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _words(opt_out=(), opt_in=(), yes=(), help=()) -> dict[str, tuple[str, ...]]:
    return {OPT_OUT: tuple(opt_out), OPT_IN: tuple(opt_in), YES: tuple(yes), HELP: tuple(help)}


# Words every resident may send, whatever their language (CTIA's list and its kin).
ANY = _words(
    opt_out=("STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
             "OPTOUT", "OPT OUT"),
    opt_in=("START", "UNSTOP", "JOIN", "SUBSCRIBE"),
    yes=("YES", "Y"),
    help=("HELP", "INFO"),
)

LANGUAGES: tuple[Language, ...] = (
    Language("en", "en", "English", "en",
             names=("ENGLISH", "INGLÉS", "ANGLAIS")),
    Language("es", "es", "Spanish", "es",
             names=("ESPAÑOL", "CASTELLANO", "SPANISH"),
             words=_words(opt_out=("PARAR", "CANCELAR", "BAJA", "ALTO", "DETENER", "DARSE DE BAJA"),
                          opt_in=("ALTA", "UNIRSE", "SUSCRIBIR", "SUSCRIBIRSE", "INICIAR"),
                          yes=("SÍ",), help=("AYUDA", "INFORMACIÓN"))),
    Language("zh-Hans", "zh_Hans", "Chinese (Simplified)", "zh",
             names=("简体中文", "中文", "汉语", "普通话", "简体", "中文简体", "CHINESE"),
             words=_words(opt_out=("停止", "退订", "取消订阅", "退出"),
                          opt_in=("订阅", "加入", "开始"),
                          yes=("是", "确认"), help=("帮助",))),
    Language("zh-Hant", "zh_Hant", "Chinese (Traditional)", "zt",
             names=("繁體中文", "正體中文", "漢語", "繁體", "中文繁體", "TRADITIONAL CHINESE"),
             words=_words(opt_out=("停止", "退訂", "取消訂閱", "退出"),
                          opt_in=("訂閱", "加入", "開始"),
                          yes=("是", "是的", "確認"), help=("幫助", "說明"))),
    Language("vi", "vi", "Vietnamese", "vi",
             names=("TIẾNG VIỆT", "TIENG VIET", "VIỆT", "VIETNAMESE"),
             words=_words(opt_out=("DỪNG", "DỪNG LẠI", "HỦY", "HỦY ĐĂNG KÝ", "NGỪNG", "HUY"),
                          opt_in=("ĐĂNG KÝ", "BẮT ĐẦU", "DANG KY", "THAM GIA"),
                          yes=("CÓ", "ĐỒNG Ý"), help=("GIÚP", "TRỢ GIÚP"))),
    Language("tl", "tl", "Tagalog", "tl",
             names=("TAGALOG", "FILIPINO", "PILIPINO", "WIKANG FILIPINO"),
             words=_words(opt_out=("TIGIL", "ITIGIL", "HINTO", "HUMINTO"),
                          opt_in=("SIMULA", "SUMALI", "MAGPATALA", "MAGSIMULA", "SALI"),
                          yes=("OO", "OPO"), help=("TULONG", "IMPORMASYON"))),
    Language("ko", "ko", "Korean", "ko",
             names=("한국어", "한국말", "한글", "KOREAN"),
             words=_words(opt_out=("중지", "수신거부", "구독취소", "거부", "해지", "그만"),
                          opt_in=("가입", "시작", "구독", "신청"),
                          yes=("예", "네"), help=("도움", "도움말"))),
    Language("ar", "ar", "Arabic", "ar", rtl=True,
             names=("العربية", "عربي", "ARABIC"),
             words=_words(opt_out=("توقف", "إيقاف", "إلغاء", "ايقاف", "الغاء", "إلغاء الاشتراك"),
                          opt_in=("اشتراك", "ابدأ", "اشترك", "بدء"),
                          yes=("نعم",), help=("مساعدة", "معلومات"))),
    Language("fr", "fr", "French", "fr",
             names=("FRANÇAIS", "FRANCAIS", "FRENCH"),
             words=_words(opt_out=("ARRÊT", "ARRETER", "ARRÊTER", "DÉSABONNER", "DÉSINSCRIRE",
                                   "ARRET", "DESINSCRIRE"),
                          opt_in=("ABONNER", "INSCRIRE", "COMMENCER", "INSCRIPTION", "DÉMARRER"),
                          yes=("OUI",), help=("AIDE", "RENSEIGNEMENTS"))),
    Language("ht", "ht", "Haitian Creole", "ht",
             names=("KREYÒL", "KREYÒL AYISYEN", "KREYOL", "AYISYEN", "CREOLE", "HAITIAN CREOLE"),
             words=_words(opt_out=("SISPANN", "KANPE", "DEZABONE", "DEZABÒNE"),
                          opt_in=("KÒMANSE", "ENSKRI", "KOMANSE", "ABÒNE"),
                          yes=("WI",), help=("ÈD", "ED"))),
    Language("pt", "pt", "Portuguese", "pt",
             names=("PORTUGUÊS", "PORTUGUES", "PORTUGUESE"),
             words=_words(opt_out=("PARAR", "CANCELAR", "SAIR", "DESCADASTRAR", "DESINSCREVER"),
                          opt_in=("INICIAR", "ENTRAR", "ASSINAR", "INSCREVER", "CADASTRAR"),
                          yes=("SIM",), help=("AJUDA", "INFORMAÇÃO"))),
    Language("ru", "ru", "Russian", "ru",
             names=("РУССКИЙ", "РУССКИЙ ЯЗЫК", "RUSSIAN"),
             words=_words(opt_out=("СТОП", "ОТПИСАТЬСЯ", "ОТМЕНА", "ОТПИСКА", "ХВАТИТ"),
                          opt_in=("СТАРТ", "ПОДПИСАТЬСЯ", "ПОДПИСКА", "НАЧАТЬ"),
                          yes=("ДА",), help=("ПОМОЩЬ", "СПРАВКА"))),
    Language("de", "de", "German", "de",
             names=("DEUTSCH", "GERMAN"),
             words=_words(opt_out=("STOPP", "ABMELDEN", "BEENDEN", "ABBESTELLEN", "ENDE"),
                          opt_in=("ANMELDEN", "ABONNIEREN", "BEITRETEN"),
                          yes=("JA",), help=("HILFE", "AUSKUNFT"))),
    Language("ja", "ja", "Japanese", "ja",
             names=("日本語", "にほんご", "JAPANESE"),
             words=_words(opt_out=("停止", "配信停止", "解除", "登録解除"),
                          opt_in=("登録", "開始", "参加"),
                          yes=("はい",), help=("ヘルプ",))),
    Language("hi", "hi", "Hindi", "hi",
             names=("हिन्दी", "हिंदी", "HINDI"),
             words=_words(opt_out=("रोकें", "बंद", "बंद करें", "रद्द करें", "सदस्यता समाप्त"),
                          opt_in=("शुरू", "सदस्यता", "शुरू करें", "जुड़ें", "सदस्यता लें"),
                          yes=("हाँ", "हां"), help=("मदद", "सहायता"))),
    Language("bn", "bn", "Bengali", "bn",
             names=("বাংলা", "বাঙলা", "BENGALI", "BANGLA"),
             words=_words(opt_out=("বন্ধ", "থামুন", "বন্ধ করুন", "বাতিল", "সদস্যতা বাতিল"),
                          opt_in=("শুরু", "যোগদান", "শুরু করুন", "যোগ দিন", "সদস্য হন"),
                          yes=("হ্যাঁ", "হাঁ"), help=("সাহায্য", "সহায়তা"))),
)

BY_TAG: dict[str, Language] = {language.tag: language for language in LANGUAGES}
TAGS: tuple[str, ...] = tuple(BY_TAG)
# Older tags still found on residents and alert texts, and the names residents' phones send.
ALIASES: dict[str, str] = {"zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-SG": "zh-Hans",
                           "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant",
                           "fil": "tl", "iw": "he"}


_LOWER = {**{alias.lower(): tag for alias, tag in ALIASES.items()}, **{t.lower(): t for t in TAGS}}


def get(tag: str) -> Language | None:
    """The row for `tag` (exact, case-insensitive, or an alias); None for other languages."""
    return BY_TAG.get(_LOWER.get((tag or "").replace("_", "-").lower(), ""))


RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "yi", "ps", "dv", "ug"})


def is_rtl(tag: str) -> bool:
    """Whether text in `tag` runs right to left (Arabic here; Hebrew, Persian and Urdu too)."""
    row = get(tag)
    if row is not None:
        return row.rtl
    return (tag or "").replace("_", "-").split("-")[0].lower() in RTL_LANGUAGES


def direction(tag: str) -> str:
    """`dir` attribute value for a container of text in `tag`."""
    return "rtl" if is_rtl(tag) else "ltr"


# The reply words shown to residents, by placeholder name in the catalogs' texts.
_REPLY_FAMILIES = {"yes": YES, "stop": OPT_OUT, "start": OPT_IN, "help": HELP}
# Carriers require STOP, START and HELP to be shown in English whatever the language.
_CARRIER_WORDS = frozenset({"stop", "start", "help"})


def reply_words(tag: str) -> dict[str, str]:
    """{"yes", "stop", "start", "help"}: the words a text in `tag` asks residents to send.

    The language's own word where the table has one (each is accepted back): YES alone
    ("SÍ"), the carrier words with the English one beside it ("PARAR (STOP)").
    """
    row = get(tag)
    own = row.words if row is not None else {}
    out = {}
    for name, family in _REPLY_FAMILIES.items():
        english, local = ANY[family][0], (own.get(family) or (None,))[0]
        if local is None:
            out[name] = english
        elif name in _CARRIER_WORDS:
            out[name] = f"{local} ({english})"
        else:
            out[name] = local
    return out
