"""A synthetic clinical corpus in English and Chinese, with document-level labels.

:func:`clinical_corpus` writes discharge summaries, radiology reports and progress notes (and, on
request, short triage notes) from a small medical ontology written for tinymed: six conditions
(:data:`DIAGNOSES`), each with its symptoms, examination signs, vital signs, laboratory results
(with units and reference ranges, flagged high or low), imaging findings, medications (with
doses, routes and frequencies) and procedures; comorbidities with their own long-term
medications; and the differential diagnoses a clinician rules out.  **Nothing in it comes from a
real patient**: every document is drawn from templates and ranges, seeded, so the same seed
gives the same corpus.

A document never names its primary diagnosis in a heading.  The diagnosis shows in its cues (a
productive cough, a CRP of 180 mg/L, consolidation on the X-ray, ceftriaxone), and those cues
overlap: breathlessness and crackles belong to four conditions, fever to two, a comorbidity can
be a diagnosis of another document ("history of heart failure"), and the condition names come up
negated ("pulmonary embolism was excluded", "未见肺栓塞").  Some documents carry only part of the
picture.  So the labels are learnable from the text, but not from a few keywords: the words
around a mention -- negation above all -- decide what it means.

Labels (see :class:`ClinicalCorpus`): the primary diagnosis, whether pneumonia is mentioned as
present, mentioned as negated ("no evidence of pneumonia", "未见肺炎") or not mentioned at all
(it can also be present beside another primary diagnosis: "aspiration pneumonia" after a stroke),
the language and the kind of document.

Each symptom and sign is written one way by default; ``phrasing="varied"`` writes it in one of a
few ways that clinicians use ("pyrexia", "high temperature", "sweats" for a fever), so that a
handful of labelled documents cannot show every word that matters.
"""

from __future__ import annotations

import numpy as np

from .dataset import Dataset, class_balance

DIAGNOSES = ("pneumonia", "heart failure", "COPD exacerbation", "urinary tract infection", "ischaemic stroke",
             "pulmonary embolism")
"""The primary diagnoses (``ClinicalCorpus.y``), in English."""
DIAGNOSES_ZH = ("肺炎", "心力衰竭", "慢阻肺急性加重", "尿路感染", "缺血性脑卒中", "肺栓塞")
"""The same diagnoses in Chinese."""
PNEUMONIA_STATUS = ("not mentioned", "present", "negated")
"""Values of ``ClinicalCorpus.pneumonia``: 0 not mentioned, 1 mentioned as present, 2 mentioned as negated."""
KINDS = ("discharge summary", "radiology report", "progress note", "triage note")
"""The kinds of document :func:`clinical_corpus` can write (``ClinicalCorpus.kind``)."""
DEFAULT_KINDS = KINDS[:3]
"""The kinds it writes unless told otherwise: triage notes are drawn only on request."""
PHRASINGS = ("plain", "varied")
LANGUAGES = ("en", "zh")
EN, ZH = 0, 1

# ----- the ontology: every entry is (English, Chinese) ----------------------------------------------
# labs: name, unit, reference range, decimals
LABS = {
    "WBC": (("WBC", "白细胞"), "x10^9/L", (4.0, 10.0), 1),
    "CRP": (("CRP", "C反应蛋白"), "mg/L", (0.0, 10.0), 0),
    "BNP": (("BNP", "脑钠肽"), "pg/mL", (0.0, 100.0), 0),
    "D-dimer": (("D-dimer", "D-二聚体"), "mg/L FEU", (0.0, 0.5), 2),
    "pCO2": (("pCO2", "二氧化碳分压"), "kPa", (4.7, 6.0), 1),
    "creatinine": (("creatinine", "肌酐"), "umol/L", (60.0, 110.0), 0),
    "sodium": (("sodium", "钠"), "mmol/L", (135.0, 145.0), 0),
    "potassium": (("potassium", "钾"), "mmol/L", (3.5, 5.0), 1),
    "haemoglobin": (("haemoglobin", "血红蛋白"), "g/L", (120.0, 170.0), 0),
    "glucose": (("glucose", "血糖"), "mmol/L", (3.9, 7.8), 1),
}
# routes and frequencies of medication orders
ROUTES = {"PO": ("PO", "口服"), "IV": ("IV", "静脉滴注"), "SC": ("SC", "皮下注射"), "NEB": ("nebulised", "雾化吸入"),
          "INH": ("inhaled", "吸入")}
FREQUENCIES = {"OD": ("once daily", "每日一次"), "BD": ("twice daily", "每日两次"),
               "TDS": ("three times daily", "每日三次"), "QDS": ("four times daily", "每日四次"),
               "STAT": ("once", "立即")}
# medications: name, dose, route, frequency
_MEDS = {
    "amoxicillin": (("amoxicillin", "阿莫西林"), "500 mg", "PO", "TDS"),
    "co-amoxiclav": (("co-amoxiclav", "阿莫西林克拉维酸"), "1.2 g", "IV", "TDS"),
    "clarithromycin": (("clarithromycin", "克拉霉素"), "500 mg", "PO", "BD"),
    "ceftriaxone": (("ceftriaxone", "头孢曲松"), "2 g", "IV", "OD"),
    "furosemide iv": (("furosemide", "呋塞米"), "40 mg", "IV", "BD"),
    "bisoprolol": (("bisoprolol", "比索洛尔"), "2.5 mg", "PO", "OD"),
    "ramipril": (("ramipril", "雷米普利"), "2.5 mg", "PO", "OD"),
    "spironolactone": (("spironolactone", "螺内酯"), "25 mg", "PO", "OD"),
    "salbutamol": (("salbutamol", "沙丁胺醇"), "5 mg", "NEB", "QDS"),
    "ipratropium": (("ipratropium", "异丙托溴铵"), "500 micrograms", "NEB", "QDS"),
    "prednisolone": (("prednisolone", "泼尼松龙"), "30 mg", "PO", "OD"),
    "doxycycline": (("doxycycline", "多西环素"), "100 mg", "PO", "OD"),
    "nitrofurantoin": (("nitrofurantoin", "呋喃妥因"), "100 mg", "PO", "BD"),
    "trimethoprim": (("trimethoprim", "甲氧苄啶"), "200 mg", "PO", "BD"),
    "gentamicin": (("gentamicin", "庆大霉素"), "5 mg/kg", "IV", "OD"),
    "aspirin": (("aspirin", "阿司匹林"), "300 mg", "PO", "OD"),
    "clopidogrel": (("clopidogrel", "氯吡格雷"), "75 mg", "PO", "OD"),
    "atorvastatin high": (("atorvastatin", "阿托伐他汀"), "80 mg", "PO", "OD"),
    "alteplase": (("alteplase", "阿替普酶"), "0.9 mg/kg", "IV", "STAT"),
    "apixaban loading": (("apixaban", "阿哌沙班"), "10 mg", "PO", "BD"),
    "enoxaparin": (("enoxaparin", "依诺肝素"), "1.5 mg/kg", "SC", "OD"),
    "rivaroxaban": (("rivaroxaban", "利伐沙班"), "15 mg", "PO", "BD"),
    # long-term medications of the comorbidities
    "metformin": (("metformin", "二甲双胍"), "500 mg", "PO", "BD"),
    "amlodipine": (("amlodipine", "氨氯地平"), "5 mg", "PO", "OD"),
    "apixaban": (("apixaban", "阿哌沙班"), "5 mg", "PO", "BD"),
    "tiotropium": (("tiotropium", "噻托溴铵"), "18 micrograms", "INH", "OD"),
    "furosemide": (("furosemide", "呋塞米"), "40 mg", "PO", "OD"),
    "atorvastatin": (("atorvastatin", "阿托伐他汀"), "20 mg", "PO", "OD"),
    "levothyroxine": (("levothyroxine", "左甲状腺素"), "50 micrograms", "PO", "OD"),
    "omeprazole": (("omeprazole", "奥美拉唑"), "20 mg", "PO", "OD"),
}
# imaging examinations, and what each shows when it is normal
EXAMS = {
    "CXR": (("chest X-ray", "胸部X线片"), ("clear lungs, normal heart size", "双肺清晰，心影大小正常")),
    "CTPA": (("CT pulmonary angiogram", "CT肺动脉造影"), ("no filling defect in the pulmonary arteries",
                                                      "肺动脉内未见充盈缺损")),
    "CTH": (("CT head", "头颅CT"), ("no acute intracranial abnormality", "颅内未见急性病变")),
    "ECHO": (("echocardiogram", "超声心动图"), ("normal left ventricular function", "左心室功能正常")),
    "USS": (("renal ultrasound", "肾脏超声"), ("normal kidneys, no hydronephrosis", "双肾未见异常，无肾积水")),
}
# per condition: symptoms, signs, abnormal labs (range), vital signs, imaging (exam, finding), treatment,
# procedures, and how likely a document of it mentions pneumonia as present beside it
CONDITIONS = (
    dict(symptoms=[("productive cough", "咳嗽咳痰"), ("fever", "发热"), ("pleuritic chest pain", "胸膜性胸痛"),
                   ("rigors", "寒战"), ("shortness of breath", "气促"), ("green sputum", "咳黄绿色痰")],
         signs=[("crackles at the right base", "右下肺可闻及湿啰音"), ("bronchial breathing at the left base",
                                                                   "左下肺可闻及支气管呼吸音"),
                ("dullness to percussion at the right base", "右下肺叩诊浊音")],
         labs={"WBC": (12.0, 22.0), "CRP": (60.0, 260.0)},
         vitals=dict(temp=(37.9, 39.6), hr=(92, 122), rr=(21, 30), spo2=(87, 94), sbp=(98, 135)),
         imaging=[("CXR", ("consolidation in the right lower lobe", "右下肺实变影")),
                  ("CXR", ("patchy consolidation in the left lower zone", "左下肺野斑片状实变影"))],
         treatment=["amoxicillin", "co-amoxiclav", "clarithromycin", "ceftriaxone"],
         procedures=[("sputum culture", "痰培养"), ("blood cultures", "血培养")], with_pneumonia=1.0),
    dict(symptoms=[("shortness of breath on exertion", "活动后气促"), ("orthopnoea", "端坐呼吸"),
                   ("ankle swelling", "双下肢水肿"), ("weight gain", "体重增加"), ("shortness of breath", "气促"),
                   ("paroxysmal nocturnal dyspnoea", "夜间阵发性呼吸困难")],
         signs=[("bibasal crackles", "双肺底湿啰音"), ("raised JVP", "颈静脉怒张"),
                ("pitting oedema to the knees", "双下肢凹陷性水肿至膝")],
         labs={"BNP": (400.0, 3200.0), "sodium": (127.0, 136.0), "creatinine": (105.0, 170.0)},
         vitals=dict(temp=(36.2, 37.4), hr=(80, 115), rr=(19, 28), spo2=(88, 95), sbp=(100, 165)),
         imaging=[("CXR", ("cardiomegaly with small bilateral pleural effusions", "心影增大，双侧少量胸腔积液")),
                  ("ECHO", ("left ventricular ejection fraction 30 percent", "左心室射血分数30%"))],
         treatment=["furosemide iv", "bisoprolol", "ramipril", "spironolactone"],
         procedures=[("daily weights", "每日称重"), ("fluid restriction", "限制液体入量")], with_pneumonia=0.1),
    dict(symptoms=[("wheeze", "喘息"), ("increased sputum", "痰量增多"), ("shortness of breath", "气促"),
                   ("cough", "咳嗽"), ("chest tightness", "胸闷")],
         signs=[("widespread wheeze", "双肺广泛哮鸣音"), ("prolonged expiration", "呼气相延长"),
                ("hyperinflated chest", "桶状胸")],
         labs={"pCO2": (6.3, 8.8), "CRP": (10.0, 45.0), "WBC": (9.0, 13.0)},
         vitals=dict(temp=(36.4, 37.8), hr=(88, 115), rr=(22, 32), spo2=(84, 91), sbp=(110, 150)),
         imaging=[("CXR", ("hyperinflated lungs with flattened diaphragms", "双肺过度充气，膈肌低平"))],
         treatment=["salbutamol", "ipratropium", "prednisolone", "doxycycline"],
         procedures=[("arterial blood gas", "动脉血气分析"), ("controlled oxygen", "控制性氧疗")], with_pneumonia=0.25),
    dict(symptoms=[("dysuria", "尿痛"), ("urinary frequency", "尿频"), ("suprapubic pain", "耻骨上疼痛"),
                   ("fever", "发热"), ("new confusion", "新发意识模糊"), ("loin pain", "腰痛")],
         signs=[("suprapubic tenderness", "耻骨上压痛"), ("right loin tenderness", "右肾区叩痛")],
         labs={"WBC": (11.0, 19.0), "CRP": (40.0, 160.0), "creatinine": (95.0, 150.0)},
         vitals=dict(temp=(37.8, 39.4), hr=(90, 118), rr=(16, 22), spo2=(95, 99), sbp=(95, 135)),
         imaging=[("USS", ("mild right hydronephrosis", "右肾轻度积水")),
                  ("CXR", ("clear lungs, normal heart size", "双肺清晰，心影大小正常"))],
         treatment=["nitrofurantoin", "trimethoprim", "gentamicin", "ceftriaxone"],
         procedures=[("urine culture", "尿培养"), ("urine dipstick positive for nitrites", "尿常规亚硝酸盐阳性")],
         with_pneumonia=0.03),
    dict(symptoms=[("sudden weakness of the left arm", "突发左上肢无力"), ("facial droop", "口角歪斜"),
                   ("slurred speech", "言语不清"), ("sudden weakness of the right leg", "突发右下肢无力"),
                   ("difficulty finding words", "找词困难")],
         signs=[("reduced power in the left arm", "左上肢肌力下降"), ("left facial weakness", "左侧面瘫"),
                ("expressive dysphasia", "运动性失语"), ("upgoing plantar", "巴氏征阳性")],
         labs={"glucose": (6.5, 9.5)},
         vitals=dict(temp=(36.3, 37.3), hr=(60, 95), rr=(14, 19), spo2=(94, 99), sbp=(150, 195)),
         imaging=[("CTH", ("hypodensity in the right middle cerebral artery territory",
                           "右侧大脑中动脉供血区低密度影")),
                  ("CTH", ("acute infarct in the left internal capsule", "左侧内囊急性梗死灶"))],
         treatment=["aspirin", "clopidogrel", "atorvastatin high", "alteplase"],
         procedures=[("swallow assessment", "吞咽功能评估"), ("thrombolysis", "静脉溶栓")], with_pneumonia=0.2),
    dict(symptoms=[("sudden shortness of breath", "突发呼吸困难"), ("pleuritic chest pain", "胸膜性胸痛"),
                   ("haemoptysis", "咯血"), ("calf swelling", "小腿肿胀"), ("shortness of breath", "气促")],
         signs=[("tachycardia", "心动过速"), ("swollen tender left calf", "左小腿肿胀压痛")],
         labs={"D-dimer": (1.5, 8.0)},
         vitals=dict(temp=(36.6, 37.9), hr=(100, 130), rr=(22, 30), spo2=(87, 94), sbp=(95, 135)),
         imaging=[("CTPA", ("filling defect in the right lower lobe pulmonary artery", "右下肺动脉充盈缺损")),
                  ("CTPA", ("bilateral pulmonary emboli", "双侧肺动脉多发栓塞"))],
         treatment=["apixaban loading", "enoxaparin", "rivaroxaban"],
         procedures=[("leg Doppler ultrasound", "下肢静脉超声"), ("ECG", "心电图")], with_pneumonia=0.05),
)
NORMAL_VITALS = dict(temp=(36.2, 37.4), hr=(62, 92), rr=(12, 18), spo2=(95, 99), sbp=(110, 145))
# comorbidities and their long-term medication; three are also primary diagnoses (a trap for keywords)
COMORBIDITIES = [(("hypertension", "高血压"), "amlodipine"), (("type 2 diabetes", "2型糖尿病"), "metformin"),
                 (("atrial fibrillation", "心房颤动"), "apixaban"), (("COPD", "慢阻肺"), "tiotropium"),
                 (("heart failure", "心力衰竭"), "furosemide"), (("previous stroke", "陈旧性脑梗死"), "atorvastatin"),
                 (("hypothyroidism", "甲状腺功能减退"), "levothyroxine"), (("reflux", "反流性食管炎"), "omeprazole")]
# symptoms of any acute illness
SHARED_SYMPTOMS = [("fatigue", "乏力"), ("reduced appetite", "食欲下降"), ("a fall at home", "在家跌倒"),
                   ("feeling generally unwell", "全身不适"), ("dizziness", "头晕")]
# how else a clinician writes each symptom and sign (phrasing="varied"): the first way is the plain one
FINDING_VARIANTS = {
    # pneumonia
    "productive cough": [("productive cough", "咳嗽咳痰"), ("wet cough", "湿咳"),
                         ("cough bringing up phlegm", "咳嗽伴咳痰"), ("chesty cough", "咳嗽多痰")],
    "fever": [("fever", "发热"), ("pyrexia", "体温升高"), ("a febrile illness", "发烧"),
              ("high temperature", "高热"), ("sweats", "出汗发热")],
    "pleuritic chest pain": [("pleuritic chest pain", "胸膜性胸痛"),
                             ("sharp pain on deep breathing", "深吸气时胸部锐痛"),
                             ("pain on inspiration", "吸气时胸痛")],
    "rigors": [("rigors", "寒战"), ("shaking chills", "畏寒发抖"), ("uncontrollable shivering", "剧烈寒颤")],
    "shortness of breath": [("shortness of breath", "气促"), ("breathlessness", "气短"),
                            ("dyspnoea", "呼吸困难"), ("difficulty breathing", "喘不过气")],
    "green sputum": [("green sputum", "咳黄绿色痰"), ("purulent sputum", "脓痰"), ("rusty sputum", "铁锈色痰"),
                     ("discoloured phlegm", "痰液变色")],
    "crackles at the right base": [("crackles at the right base", "右下肺可闻及湿啰音"),
                                   ("coarse crepitations on the right", "右肺粗湿啰音"),
                                   ("right basal creps", "右肺底水泡音")],
    "bronchial breathing at the left base": [("bronchial breathing at the left base", "左下肺可闻及支气管呼吸音"),
                                             ("tubular breath sounds on the left", "左下肺管状呼吸音")],
    "dullness to percussion at the right base": [("dullness to percussion at the right base", "右下肺叩诊浊音"),
                                                 ("a dull percussion note on the right", "右肺叩诊呈浊音")],
    # heart failure
    "shortness of breath on exertion": [("shortness of breath on exertion", "活动后气促"),
                                        ("breathlessness on the stairs", "上楼即感气短"),
                                        ("reduced exercise tolerance", "活动耐量下降")],
    "orthopnoea": [("orthopnoea", "端坐呼吸"), ("breathlessness lying flat", "平卧时气短"),
                   ("a need for four pillows at night", "需高枕卧位")],
    "ankle swelling": [("ankle swelling", "双下肢水肿"), ("swollen ankles", "脚踝肿胀"),
                       ("puffy legs", "下肢浮肿")],
    "weight gain": [("weight gain", "体重增加"), ("gaining weight", "体重上升"),
                    ("clothes getting tighter", "腹围增大")],
    "paroxysmal nocturnal dyspnoea": [("paroxysmal nocturnal dyspnoea", "夜间阵发性呼吸困难"),
                                      ("waking at night gasping", "夜间憋醒"), ("PND", "夜间憋喘")],
    "bibasal crackles": [("bibasal crackles", "双肺底湿啰音"),
                         ("fine crepitations at both bases", "双下肺细湿啰音")],
    "raised JVP": [("raised JVP", "颈静脉怒张"), ("distended neck veins", "颈静脉充盈")],
    "pitting oedema to the knees": [("pitting oedema to the knees", "双下肢凹陷性水肿至膝"),
                                    ("leg oedema", "下肢凹陷性水肿")],
    # COPD exacerbation
    "wheeze": [("wheeze", "喘息"), ("wheezing", "喘鸣"), ("noisy breathing", "呼吸有哮鸣")],
    "increased sputum": [("increased sputum", "痰量增多"), ("more phlegm than usual", "咳痰较平时增多"),
                         ("a rising sputum volume", "痰多")],
    "cough": [("cough", "咳嗽"), ("coughing", "咳嗽不止"), ("hacking cough", "阵发性咳嗽")],
    "chest tightness": [("chest tightness", "胸闷"), ("tight chest", "胸部紧缩感"),
                        ("a band around the chest", "胸部压迫感")],
    "widespread wheeze": [("widespread wheeze", "双肺广泛哮鸣音"), ("polyphonic wheeze", "双肺多音性哮鸣音")],
    "prolonged expiration": [("prolonged expiration", "呼气相延长"),
                             ("a long expiratory phase", "呼气时间延长")],
    "hyperinflated chest": [("hyperinflated chest", "桶状胸"), ("barrel chest", "胸廓前后径增大")],
    # urinary tract infection
    "dysuria": [("dysuria", "尿痛"), ("burning on passing urine", "排尿烧灼感"),
                ("stinging when urinating", "小便刺痛")],
    "urinary frequency": [("urinary frequency", "尿频"), ("passing urine often", "小便次数增多"),
                          ("urgency", "尿急")],
    "suprapubic pain": [("suprapubic pain", "耻骨上疼痛"), ("lower abdominal pain", "下腹痛"),
                        ("pain above the pubic bone", "小腹疼痛")],
    "new confusion": [("new confusion", "新发意识模糊"), ("acute delirium", "急性谵妄"),
                      ("new muddling", "神志较平时混乱")],
    "loin pain": [("loin pain", "腰痛"), ("flank pain", "腰肋部疼痛"),
                  ("pain in the side of the back", "肾区疼痛")],
    "suprapubic tenderness": [("suprapubic tenderness", "耻骨上压痛"),
                              ("tenderness above the pubis", "下腹压痛")],
    "right loin tenderness": [("right loin tenderness", "右肾区叩痛"),
                              ("renal angle tenderness", "肋脊角压痛")],
    # ischaemic stroke
    "sudden weakness of the left arm": [("sudden weakness of the left arm", "突发左上肢无力"),
                                        ("the left arm giving way", "左手突然无力"),
                                        ("inability to lift the left arm", "左上肢抬举困难")],
    "facial droop": [("facial droop", "口角歪斜"), ("drooping face", "面部下垂"),
                     ("lopsided smile", "微笑不对称")],
    "slurred speech": [("slurred speech", "言语不清"), ("dysarthria", "构音障碍"),
                       ("drunk-sounding speech", "说话含糊")],
    "sudden weakness of the right leg": [("sudden weakness of the right leg", "突发右下肢无力"),
                                         ("right leg dragging", "右腿拖行"),
                                         ("inability to stand on the right leg", "右下肢不能站立")],
    "difficulty finding words": [("difficulty finding words", "找词困难"),
                                 ("word-finding difficulty", "命名困难"), ("muddled words", "言语错乱")],
    "reduced power in the left arm": [("reduced power in the left arm", "左上肢肌力下降"),
                                      ("left arm power 3/5", "左上肢肌力3级")],
    "left facial weakness": [("left facial weakness", "左侧面瘫"), ("left facial palsy", "左侧鼻唇沟变浅")],
    "expressive dysphasia": [("expressive dysphasia", "运动性失语"), ("broken speech", "表达性言语障碍")],
    "upgoing plantar": [("upgoing plantar", "巴氏征阳性"), ("positive Babinski sign", "病理征阳性")],
    # pulmonary embolism
    "sudden shortness of breath": [("sudden shortness of breath", "突发呼吸困难"),
                                   ("abrupt breathlessness", "突然气短"), ("acute dyspnoea", "急性呼吸困难")],
    "haemoptysis": [("haemoptysis", "咯血"), ("coughing up blood", "痰中带血"),
                    ("blood-streaked sputum", "血丝痰")],
    "calf swelling": [("calf swelling", "小腿肿胀"), ("a swollen calf", "腓肠肌肿胀"),
                      ("a painful leg", "单侧下肢肿痛")],
    "tachycardia": [("tachycardia", "心动过速"), ("a racing pulse", "脉搏增快")],
    "swollen tender left calf": [("swollen tender left calf", "左小腿肿胀压痛"),
                                 ("a hot red left calf", "左小腿红肿热痛")],
}
# how condition names are written in running text (the Chinese ones are DIAGNOSES_ZH)
_NAMES_EN = ("pneumonia", "heart failure", "an exacerbation of COPD", "urinary tract infection", "ischaemic stroke",
             "pulmonary embolism")
_NEGATED = (["no evidence of {}", "{} was excluded", "{} was considered unlikely", "no features of {}"],
            ["未见{}", "排除{}", "不支持{}", "无{}表现"])
_AFFIRMED = (["findings consistent with {}", "treated for {}", "in keeping with {}", "likely {}"],
             ["考虑{}", "诊断为{}", "符合{}表现", "提示{}"])
_SECONDARY_PNEUMONIA = (["complicated by pneumonia", "with a superimposed pneumonia", "aspiration pneumonia"],
                        ["合并肺炎", "继发肺炎", "吸入性肺炎"])


class ClinicalCorpus(Dataset):
    """``(X, y)``: ``X`` an object array of ``n`` documents (str), ``y`` int64 ``(n,)`` the primary
    diagnosis (an index into :data:`DIAGNOSES`); and per document:

    * ``pneumonia`` int64 ``(n,)``: 0 not mentioned, 1 mentioned as present, 2 mentioned as negated
      (:data:`PNEUMONIA_STATUS`);
    * ``language`` object ``(n,)``: ``"en"`` or ``"zh"``;
    * ``kind`` object ``(n,)``: one of :data:`KINDS`.
    """

    def __new__(cls, X, y, pneumonia, language, kind, description=""):
        self = super().__new__(cls, X, y, description, class_names=DIAGNOSES)
        self.pneumonia, self.language, self.kind = pneumonia, language, kind
        return self

    def __getnewargs__(self):
        return (self.X, self.y, self.pneumonia, self.language, self.kind, self.description)

    def subset(self, index) -> ClinicalCorpus:
        """The documents at ``index`` (an index array or a boolean mask), with their labels."""
        return ClinicalCorpus(self.X[index], self.y[index], self.pneumonia[index], self.language[index],
                              self.kind[index], self.description)


def clinical_corpus(n: int = 8000, language: str = "both", seed=0, kinds=DEFAULT_KINDS,
                    phrasing: str = "plain") -> ClinicalCorpus:
    """Generate ``n`` synthetic clinical documents with their labels (see the module docstring).

    ``language``: ``"en"``, ``"zh"`` or ``"both"`` (each document drawn in either, evenly).
    ``kinds``: the kinds of document to draw from (a sequence of :data:`KINDS`), evenly; by default
    the three long ones, :data:`DEFAULT_KINDS`.  A *triage note* is one or two lines: the patient and
    the symptoms and signs they arrived with, nothing else (no vital signs, results, treatment or
    condition names).  Diagnoses are drawn evenly.  At the default ``n = 8000`` with both languages
    the corpus is about 2.7 million characters (3.8 MB of UTF-8).

    ``phrasing``: ``"plain"`` writes each symptom and sign one way; ``"varied"`` writes each in one
    of two to five ways (:data:`FINDING_VARIANTS`: "fever", "pyrexia", "a febrile illness", "high
    temperature", "sweats"), as different clinicians do.  With varied phrasing a few labelled
    documents no longer show every word that points to a diagnosis, while unlabelled documents, in
    which the words come up beside the rest of their condition's picture, still tell which go
    together.  The same seed gives the same documents in either phrasing, with the same labels;
    only the words of the findings differ.

    Measured (seed 0 to train, seed 1 to test): a bag of character 1- to 3-grams with logistic
    regression (scikit-learn's defaults) reaches a diagnosis accuracy of 0.66 from 50 labelled
    documents, 0.85 from 200 and 0.89 from 1000; on the pneumonia status, 0.43 from 50 and 0.78
    from 200.  "The document contains the word pneumonia (肺炎)" is right about pneumonia being
    *present* for only about two documents in three.  The same
    ``seed`` gives the same corpus.  Returns a :class:`ClinicalCorpus`.
    """
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"clinical_corpus: n must be a non-negative integer, got {n!r}")
    if language not in ("en", "zh", "both"):
        raise ValueError(f"clinical_corpus: language must be 'en', 'zh' or 'both', got {language!r}")
    if phrasing not in PHRASINGS:
        raise ValueError(f"clinical_corpus: phrasing must be 'plain' or 'varied', got {phrasing!r}")
    given, kinds = kinds, (kinds,) if isinstance(kinds, str) else tuple(kinds) if np.iterable(kinds) else ()
    if not kinds or any(k not in KINDS for k in kinds):
        raise ValueError(f"clinical_corpus: kinds must be a non-empty sequence of {KINDS}, got {given!r}")
    rng = np.random.default_rng(seed)
    # the ways of writing findings come from a generator of their own, so that the same seed gives the
    # same documents in either phrasing, differing only in those words
    phrase_rng = rng.spawn(1)[0] if phrasing == "varied" else None
    docs, labels, status, languages, drawn_kinds = [], [], [], [], []
    for _ in range(n):
        lang = (EN if rng.random() < 0.5 else ZH) if language == "both" else LANGUAGES.index(language)
        kind = kinds[int(rng.integers(len(kinds)))]
        diagnosis = int(rng.integers(len(DIAGNOSES)))
        pneumonia = _pneumonia_status(rng, diagnosis) if kind != "triage note" else 0
        docs.append(_WRITERS[kind](_Writer(rng, lang, phrase_rng), diagnosis, pneumonia))
        labels.append(diagnosis)
        status.append(pneumonia)
        languages.append(LANGUAGES[lang])
        drawn_kinds.append(kind)
    X = np.array(docs, dtype=object)
    y, pneumonia = np.array(labels, dtype=np.int64), np.array(status, dtype=np.int64)
    description = "\n".join([
        f"Synthetic clinical corpus ({', '.join(map(_plural, kinds))}; {_LANGUAGE_NAMES[language]})",
        f"source:  generated by tinymed.data.clinical_corpus (templates and ranges, seed={seed!r}, "
        f"phrasing={phrasing!r}); "
        "no real patient", "licence: none needed (synthetic; part of tinymed, MIT)",
        f"X: {n} documents (str), {sum(map(len, docs))} characters    y: primary diagnosis, int64 ({n},)",
        "primary diagnosis:", class_balance(y, DIAGNOSES),
        "pneumonia (.pneumonia):", class_balance(pneumonia, PNEUMONIA_STATUS)])
    return ClinicalCorpus(X, y, pneumonia, np.array(languages, dtype=object), np.array(drawn_kinds, dtype=object),
                          description)


_LANGUAGE_NAMES = {"en": "English", "zh": "Chinese", "both": "English and Chinese"}


def _plural(kind):
    return kind[:-1] + "ies" if kind.endswith("y") else kind + "s"


def _pneumonia_status(rng, diagnosis):
    if rng.random() < CONDITIONS[diagnosis]["with_pneumonia"]:
        return 1
    return 2 if rng.random() < 0.45 else 0


# ----- writing ---------------------------------------------------------------------------------
class _Writer:
    """Phrases in one language, drawn with one generator."""

    def __init__(self, rng, lang, phrase_rng=None):
        self.rng, self.lang, self.phrase_rng = rng, lang, phrase_rng
        self.stop, self.comma = (". ", ", ") if lang == EN else ("。", "，")

    def chance(self, p):
        return self.rng.random() < p

    def pick(self, items):
        return items[int(self.rng.random() * len(items))]

    def some(self, items, low, high):
        """Between ``low`` and ``high`` distinct items, in random order."""
        count = min(len(items), int(self.rng.integers(low, high + 1)))
        return [items[i] for i in self.rng.permutation(len(items))[:count]]

    def text(self, pair):
        return pair[self.lang]

    def phrased(self, findings):
        """Symptoms or signs, each written one of its ways when the phrasing is varied."""
        if self.phrase_rng is None:
            return findings
        return [FINDING_VARIANTS[f[EN]][int(self.phrase_rng.integers(len(FINDING_VARIANTS[f[EN]])))]
                for f in findings]

    def join(self, pairs):
        words = [self.text(p) for p in pairs]
        if self.lang == ZH:
            return "、".join(words)
        return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]

    def sentences(self, parts):
        return self.stop.join(p for p in parts if p) + self.stop.strip()

    def name(self, diagnosis):
        return (_NAMES_EN if self.lang == EN else DIAGNOSES_ZH)[diagnosis]

    def affirmed(self, diagnosis):
        return self.pick(_AFFIRMED[self.lang]).format(self.name(diagnosis))

    def negated(self, diagnosis):
        return self.pick(_NEGATED[self.lang]).format(self.name(diagnosis))

    def patient(self):
        age, male = int(np.clip(self.rng.normal(70, 13), 19, 98)), self.chance(0.5)
        if self.lang == EN:
            return f"{age}-year-old {'man' if male else 'woman'}"
        return f"患者{'男' if male else '女'}，{age}岁"

    def number(self, low, high, decimals):
        return f"{self.rng.uniform(low, high):.{decimals}f}"

    def vitals(self, diagnosis, strong):
        v = CONDITIONS[diagnosis]["vitals"] if strong else NORMAL_VITALS
        t, hr, rr = self.number(*v["temp"], 1), self.number(*v["hr"], 0), self.number(*v["rr"], 0)
        spo2, sbp = self.number(*v["spo2"], 0), self.number(*v["sbp"], 0)
        dbp = str(int(self.rng.uniform(55, 95)))
        if self.lang == EN:
            return (f"temperature {t} C, heart rate {hr}/min, BP {sbp}/{dbp} mmHg, respiratory rate {rr}/min, "
                    f"SpO2 {spo2}% on air")
        return f"体温{t}℃，心率{hr}次/分，血压{sbp}/{dbp} mmHg，呼吸{rr}次/分，血氧饱和度{spo2}%"

    def lab(self, key, value_range=None):
        (names, unit, (low, high), decimals) = LABS[key]
        if value_range is None:  # an unrelated result: usually normal, sometimes a little off
            span = high - low
            value_range = (low + 0.1 * span, high - 0.1 * span) if self.chance(0.85) else (high, high + 0.4 * span)
        value = float(self.number(*value_range, decimals))
        flag = ("H" if value > high else "L" if value < low else "") if self.lang == EN else \
            ("↑" if value > high else "↓" if value < low else "")
        ref = f"{low:.{decimals}f}-{high:.{decimals}f}"
        if self.lang == EN:
            return f"{names[EN]} {value:.{decimals}f} {unit} (ref {ref}){' ' + flag if flag else ''}"
        return f"{names[ZH]}{value:.{decimals}f} {unit}（参考范围{ref}）{flag}"

    def labs(self, diagnosis, strong):
        own = CONDITIONS[diagnosis]["labs"]
        keys = [k for k in own if strong and self.chance(0.8)]
        keys += self.some([k for k in LABS if k not in keys], 1, 3)
        order = self.rng.permutation(len(keys))
        return (self.comma if self.lang == ZH else ", ").join(
            self.lab(keys[i], own.get(keys[i]) if keys[i] in own and strong else None) for i in order)

    def medication(self, key):
        names, dose, route, frequency = _MEDS[key]
        if self.lang == EN:
            return f"{names[EN]} {dose} {ROUTES[route][EN]} {FREQUENCIES[frequency][EN]}"
        return f"{names[ZH]} {dose} {ROUTES[route][ZH]} {FREQUENCIES[frequency][ZH]}"

    def exam(self, key):
        return self.text(EXAMS[key][0])


def _findings(w, diagnosis, strong):
    """Symptoms (own and shared), signs, comorbidities: what the history and examination found."""
    condition = CONDITIONS[diagnosis]
    symptoms = (w.phrased(w.some(condition["symptoms"], 1, 3)) if strong else []) + \
        w.some(SHARED_SYMPTOMS, 0 if strong else 1, 2)
    signs = w.phrased(w.some(condition["signs"], 1, 2)) if strong and w.chance(0.7) else []
    history = w.some(COMORBIDITIES, 0, 3)
    return symptoms, signs, history


def _pneumonia_sentence(w, diagnosis, pneumonia):
    """What the document says about pneumonia (the primary diagnosis says it elsewhere)."""
    if pneumonia == 1 and diagnosis != 0:
        return w.pick(_SECONDARY_PNEUMONIA[w.lang])
    if pneumonia == 2:
        return w.negated(0)
    return ""


def _differential(w, diagnosis):
    """Other conditions ruled out (never pneumonia: that is :func:`_pneumonia_sentence`'s)."""
    others = [d for d in range(1, len(DIAGNOSES)) if d != diagnosis]
    return [w.negated(d) for d in w.some(others, 0, 2)]


def _imaging(w, diagnosis, strong):
    """(exam, finding) of one examination: the condition's, or a normal one."""
    if strong and w.chance(0.85):
        exam, finding = w.pick(CONDITIONS[diagnosis]["imaging"])
        return w.exam(exam), w.text(finding)
    exam = w.pick(list(EXAMS))
    return w.exam(exam), w.text(EXAMS[exam][1])


def _discharge_summary(w, diagnosis, pneumonia):
    strong = w.chance(0.9)
    symptoms, signs, history = _findings(w, diagnosis, strong)
    exam, finding = _imaging(w, diagnosis, strong)
    days = int(w.rng.integers(1, 8))
    treatment = w.some(CONDITIONS[diagnosis]["treatment"], 1, 3) if strong else []
    procedures = w.some(CONDITIONS[diagnosis]["procedures"], 0, 1)
    long_term = [w.medication(med) for _, med in history]
    assessment = [w.affirmed(diagnosis)] if diagnosis == 0 or w.chance(0.5) else []
    assessment += _differential(w, diagnosis) + [_pneumonia_sentence(w, diagnosis, pneumonia)]
    if w.lang == EN:
        parts = [f"DISCHARGE SUMMARY\n{w.patient()} admitted with {w.join(symptoms)} for {days} days",
                 f"Past history: {w.join([h for h, _ in history])}" if history else "No significant past history",
                 f"On examination: {w.vitals(diagnosis, strong)}" + (f", {w.join(signs)}" if signs else ""),
                 f"Investigations: {w.labs(diagnosis, strong)}", _capitalised(f"{exam}: {finding}"),
                 f"Procedures: {w.join(procedures)}" if procedures else "",
                 _capitalised("; ".join(a for a in assessment if a)),
                 f"Treated with {', '.join(w.medication(m) for m in treatment)}" if treatment else "",
                 f"Discharged on day {days + int(w.rng.integers(2, 9))}",
                 f"Discharge medications: {', '.join(long_term)}" if long_term else ""]
    else:
        parts = [f"出院小结\n{w.patient()}，因{w.join(symptoms)}{days}天入院",
                 f"既往史：{w.join([h for h, _ in history])}" if history else "既往体健",
                 f"查体：{w.vitals(diagnosis, strong)}" + (f"，{w.join(signs)}" if signs else ""),
                 f"实验室检查：{w.labs(diagnosis, strong)}", f"{exam}：{finding}",
                 f"操作：{w.join(procedures)}" if procedures else "",
                 "，".join(a for a in assessment if a),
                 f"予{'，'.join(w.medication(m) for m in treatment)}治疗" if treatment else "",
                 f"住院{days + int(w.rng.integers(2, 9))}天后出院",
                 f"出院带药：{'，'.join(long_term)}" if long_term else ""]
    return w.sentences(parts)


def _radiology_report(w, diagnosis, pneumonia):
    strong = w.chance(0.9)
    symptoms, _, _ = _findings(w, diagnosis, strong)
    exam, finding = _imaging(w, diagnosis, strong)
    impression = [w.affirmed(diagnosis)] if diagnosis == 0 or (strong and w.chance(0.5)) else []
    impression += _differential(w, diagnosis)[:1] + [_pneumonia_sentence(w, diagnosis, pneumonia)]
    if w.lang == EN:
        parts = [f"RADIOLOGY REPORT\nExamination: {exam}", f"Clinical details: {w.join(symptoms)}",
                 f"Findings: {finding}",
                 "Impression: " + "; ".join(a for a in impression if a) if any(impression) else ""]
    else:
        parts = [f"影像报告\n检查项目：{exam}", f"临床资料：{w.join(symptoms)}", f"影像所见：{finding}",
                 "诊断意见：" + "；".join(a for a in impression if a) if any(impression) else ""]
    return w.sentences(parts)


def _progress_note(w, diagnosis, pneumonia):
    strong = w.chance(0.85)
    symptoms, signs, _ = _findings(w, diagnosis, strong)
    day = int(w.rng.integers(2, 7))
    treatment = w.some(CONDITIONS[diagnosis]["treatment"], 1, 2) if strong else []
    assessment = [w.affirmed(diagnosis)] if diagnosis == 0 or w.chance(0.4) else []
    assessment += _differential(w, diagnosis)[:1] + [_pneumonia_sentence(w, diagnosis, pneumonia)]
    better = w.chance(0.7)
    if w.lang == EN:
        parts = [f"PROGRESS NOTE, day {day}\nS: {w.join(symptoms)}, {'improving' if better else 'no better'}",
                 f"O: {w.vitals(diagnosis, strong)}" + (f", {w.join(signs)}" if signs else ""),
                 f"Bloods today: {w.labs(diagnosis, strong)}",
                 "A: " + "; ".join(a for a in assessment if a) if any(assessment) else "",
                 f"P: continue {', '.join(w.medication(m) for m in treatment)}" if treatment else "P: observe"]
    else:
        parts = [f"病程记录 第{day}天\n主诉：{w.join(symptoms)}{'较前好转' if better else '仍存在'}",
                 f"查体：{w.vitals(diagnosis, strong)}" + (f"，{w.join(signs)}" if signs else ""),
                 f"今日化验：{w.labs(diagnosis, strong)}",
                 "评估：" + "；".join(a for a in assessment if a) if any(assessment) else "",
                 f"计划：继续{'，'.join(w.medication(m) for m in treatment)}" if treatment else "计划：继续观察"]
    return w.sentences(parts)


def _triage_note(w, diagnosis, _pneumonia):
    symptoms, signs, history = _findings(w, diagnosis, w.chance(0.95))
    arrival = w.pick([("self-presented", "自行来诊"), ("brought in by ambulance", "由救护车送入"),
                      ("referred by the GP", "由社区医生转诊")])
    if w.lang == EN:
        parts = [f"TRIAGE NOTE\n{_capitalised(w.patient())}, {w.text(arrival)}, with {w.join(symptoms)}",
                 f"Noted: {w.join(signs)}" if signs else "",
                 f"Known {w.join([h for h, _ in history])}" if history else ""]
    else:
        parts = [f"分诊记录\n{w.patient()}，{w.text(arrival)}，主诉{w.join(symptoms)}",
                 f"查见{w.join(signs)}" if signs else "",
                 f"既往{w.join([h for h, _ in history])}" if history else ""]
    return w.sentences(parts)


def _capitalised(sentence):
    return sentence[:1].upper() + sentence[1:]


_WRITERS = {"discharge summary": _discharge_summary, "radiology report": _radiology_report,
            "progress note": _progress_note, "triage note": _triage_note}
