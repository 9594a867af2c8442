// One small label table; the language comes from the browser unless the user picks one.
const LABELS = {
  en: {
    tree: "Plant", overview: "Overview", alarms: "Alarms", layout: "Layout", whatif: "What-if",
    reports: "Reports", query: "SQL", logout: "Log out", live: "live", state: "State",
    signals: "Signals", value: "Value", time: "Time", oee: "OEE", availability: "Avail.",
    performance: "Perf.", quality: "Quality", kpi_window: "KPIs of the last 8 h",
    no_kpis: "no KPIs", alarm: "Alarm", priority: "Priority", since: "Since", message: "Message",
    actions: "Actions", ack: "Acknowledge", shelve: "Shelve", unshelve: "Unshelve",
    reason: "Reason", duration: "Duration", no_alarms: "No active alarms.",
    viewer_note: "Your role may not change alarms or send commands; the server decides.",
    trend: "Trend", history: "History", load_history: "Load history", health: "Health",
    rul: "Remaining useful life", commands: "Commands", send: "Send", confirm: "Confirm",
    cancel: "Cancel", confirm_command: "Send this command?", parameters: "Parameters",
    refused: "Refused", result: "Result", loading: "Loading…", asset: "Asset",
    active_alarms: "Active alarms", scenario: "Scenario", run: "Run", status: "Status",
    baseline: "Baseline", difference: "Difference", download: "Download", day: "Day",
    scope: "Scope", format: "Format", sql: "Query", chart: "Chart", rows: "rows", bucket: "Bucket",
    from: "From", nothing: "—", properties: "Properties", children: "Parts",
  },
  ko: {
    tree: "공장", overview: "개요", alarms: "알람", layout: "배치도", whatif: "시뮬레이션",
    reports: "보고서", query: "SQL", logout: "로그아웃", live: "실시간", state: "상태",
    signals: "신호", value: "값", time: "시간", oee: "OEE", availability: "가동률",
    performance: "성능", quality: "품질", kpi_window: "최근 8시간 KPI",
    no_kpis: "KPI 없음", alarm: "알람", priority: "우선순위", since: "발생", message: "메시지",
    actions: "조치", ack: "확인", shelve: "보류", unshelve: "보류 해제",
    reason: "사유", duration: "기간", no_alarms: "활성 알람이 없습니다.",
    viewer_note: "권한에 따라 알람 조치나 명령이 거부될 수 있습니다. 서버가 판단합니다.",
    trend: "추이", history: "이력", load_history: "이력 불러오기", health: "건전성",
    rul: "잔여 수명", commands: "명령", send: "전송", confirm: "확인",
    cancel: "취소", confirm_command: "이 명령을 전송할까요?", parameters: "매개변수",
    refused: "거부됨", result: "결과", loading: "불러오는 중…", asset: "설비",
    active_alarms: "활성 알람", scenario: "시나리오", run: "실행", status: "상태",
    baseline: "기준", difference: "차이", download: "다운로드", day: "날짜",
    scope: "범위", format: "형식", sql: "쿼리", chart: "차트", rows: "행", bucket: "구간",
    from: "시작", nothing: "—", properties: "속성", children: "구성품",
  },
};

const stored = localStorage.getItem("plantwin.lang");
export let lang = stored in LABELS ? stored : (navigator.language || "en").toLowerCase().startsWith("ko") ? "ko" : "en";

export function setLang(next) {
  lang = next in LABELS ? next : "en";
  localStorage.setItem("plantwin.lang", lang);
  document.documentElement.lang = lang;
}

export function t(key) {
  return LABELS[lang][key] ?? LABELS.en[key] ?? key;
}

const locale = () => (lang === "ko" ? "ko-KR" : navigator.language || "en-US");

// Numbers: 3 significant digits for large values, up to 2 decimals for small ones.
export function num(value, unit = "") {
  if (value === null || value === undefined || Number.isNaN(value)) return t("nothing");
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : 2;
  const text = new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
  return unit && unit !== "1" ? `${text} ${unit}` : text;
}

export function pct(ratio) {
  if (ratio === null || ratio === undefined) return t("nothing");
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 1 }).format(ratio);
}

export function when(iso) {
  if (!iso) return t("nothing");
  return new Intl.DateTimeFormat(locale(), { dateStyle: "short", timeStyle: "medium" }).format(new Date(iso));
}
