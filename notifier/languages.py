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
    Language("en", "en", "English", "en", names=("ENGLISH", "INGLÉS", "ANGLAIS")),
    Language("es", "es", "Spanish", "es", names=("ESPAÑOL", "CASTELLANO", "SPANISH"),
             words=_words(("PARAR", "CANCELAR", "BAJA", "ALTO", "DETENER", "DARSE DE BAJA"),
                          ("ALTA", "UNIRSE", "SUSCRIBIR", "SUSCRIBIRSE", "INICIAR"),
                          ("SÍ",), ("AYUDA", "INFORMACIÓN"))),
    Language("zh-Hans", "zh_Hans", "Chinese (Simplified)", "zh",
             names=("简体中文", "中文", "汉语", "普通话", "CHINESE"),
             words=_words(("停止", "退订", "取消订阅"), ("订阅", "加入", "开始"), ("是",),
                          ("帮助",))),
    Language("zh-Hant", "zh_Hant", "Chinese (Traditional)", "zt",
             names=("繁體中文", "正體中文", "漢語", "TRADITIONAL CHINESE"),
             words=_words(("停止", "退訂", "取消訂閱"), ("訂閱", "加入", "開始"), ("是", "是的"),
                          ("幫助",))),
    Language("vi", "vi", "Vietnamese", "vi", names=("TIẾNG VIỆT", "VIETNAMESE"),
             words=_words(("DỪNG", "DỪNG LẠI", "HỦY", "HỦY ĐĂNG KÝ"), ("ĐĂNG KÝ", "BẮT ĐẦU"),
                          ("CÓ",), ("GIÚP", "TRỢ GIÚP"))),
    Language("tl", "tl", "Tagalog", "tl", names=("TAGALOG", "FILIPINO"),
             words=_words(("TIGIL", "ITIGIL", "HINTO"), ("SIMULA", "SUMALI", "MAGPATALA"),
                          ("OO",), ("TULONG",))),
    Language("ko", "ko", "Korean", "ko", names=("한국어", "한국말", "KOREAN"),
             words=_words(("중지", "수신거부", "구독취소"), ("가입", "시작", "구독"), ("예", "네"),
                          ("도움", "도움말"))),
    Language("ar", "ar", "Arabic", "ar", rtl=True, names=("العربية", "عربي", "ARABIC"),
             words=_words(("توقف", "إيقاف", "إلغاء"), ("اشتراك", "ابدأ"), ("نعم",),
                          ("مساعدة",))),
    Language("fr", "fr", "French", "fr", names=("FRANÇAIS", "FRENCH"),
             words=_words(("ARRÊT", "ARRETER", "ARRÊTER", "DÉSABONNER", "DÉSINSCRIRE"),
                          ("ABONNER", "INSCRIRE", "COMMENCER"), ("OUI",), ("AIDE",))),
    Language("ht", "ht", "Haitian Creole", "ht",
             names=("KREYÒL", "KREYÒL AYISYEN", "CREOLE", "HAITIAN CREOLE"),
             words=_words(("SISPANN", "KANPE", "DEZABONE"), ("KÒMANSE", "ENSKRI"), ("WI",),
                          ("ÈD",))),
    Language("pt", "pt", "Portuguese", "pt", names=("PORTUGUÊS", "PORTUGUESE"),
             words=_words(("PARAR", "CANCELAR", "SAIR"), ("INICIAR", "ENTRAR", "ASSINAR",
                                                           "INSCREVER"), ("SIM",), ("AJUDA",))),
    Language("ru", "ru", "Russian", "ru", names=("РУССКИЙ", "RUSSIAN"),
             words=_words(("СТОП", "ОТПИСАТЬСЯ", "ОТМЕНА"), ("СТАРТ", "ПОДПИСАТЬСЯ"), ("ДА",),
                          ("ПОМОЩЬ",))),
    Language("de", "de", "German", "de", names=("DEUTSCH", "GERMAN"),
             words=_words(("STOPP", "ABMELDEN", "BEENDEN"), ("ANMELDEN", "ABONNIEREN"), ("JA",),
                          ("HILFE",))),
    Language("ja", "ja", "Japanese", "ja", names=("日本語", "JAPANESE"),
             words=_words(("停止", "配信停止", "解除"), ("登録", "開始"), ("はい",), ("ヘルプ",))),
    Language("hi", "hi", "Hindi", "hi", names=("हिन्दी", "हिंदी", "HINDI"),
             words=_words(("रोकें", "बंद"), ("शुरू", "सदस्यता"), ("हाँ", "हां"), ("मदद", "सहायता"))),
    Language("bn", "bn", "Bengali", "bn", names=("বাংলা", "BENGALI", "BANGLA"),
             words=_words(("বন্ধ", "থামুন"), ("শুরু", "যোগদান"), ("হ্যাঁ",), ("সাহায্য",))),
)

BY_TAG: dict[str, Language] = {language.tag: language for language in LANGUAGES}
TAGS: tuple[str, ...] = tuple(BY_TAG)
# Older tags still found on residents and alert texts, and the names residents' phones send.
ALIASES: dict[str, str] = {"zh": "zh-Hans", "zh-CN": "zh-Hans", "zh-SG": "zh-Hans",
                           "zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant",
                           "fil": "tl", "iw": "he"}


def get(tag: str) -> Language | None:
    """The row for `tag` (exact, case-insensitive, or an alias); None for other languages."""
    lowered = {t.lower(): t for t in TAGS}
    found = lowered.get((tag or "").replace("_", "-").lower())
    if found is None:
        alias = {a.lower(): t for a, t in ALIASES.items()}.get((tag or "").replace("_", "-").lower())
        found = alias if alias in BY_TAG else None
    return BY_TAG.get(found) if found else None


def is_rtl(tag: str) -> bool:
    """Whether text in `tag` runs right to left (Arabic here; Hebrew, Persian and Urdu too)."""
    row = get(tag)
    if row is not None:
        return row.rtl
    return (tag or "").replace("_", "-").split("-")[0].lower() in {"ar", "he", "fa", "ur", "yi", "ps"}


def direction(tag: str) -> str:
    """`dir` attribute value for a container of text in `tag`."""
    return "rtl" if is_rtl(tag) else "ltr"
