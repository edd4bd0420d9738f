"""The words monitor.figures reads figures by, in English, French, Spanish and Arabic (with a few
German and Indonesian ones): constants only.

Phrases are written as they are spelt, separated by '|', and folded when the lexicon is built. A
word ending in '*' matches any word it begins; Arabic words also match without their attached
prefixes. A category names what a phrase says: a kind of figure (displaced, killed, ...), a counted
noun (people, households), a word that makes a number something other than a count, or a word that
may stand between a number and the word saying what happened to it.
"""

from __future__ import annotations

# Phrases by category, written as they are spelt; folded when the lexicon is built. A word ending
# in '*' matches any word it begins; Arabic words also match without their attached prefixes.
LEXICON: dict[str, str] = {
    "displaced": """abandon* their homes | left their homes | se refugiaron | refugiaron |
        left their villages | left their towns | left their communities | left their land |
        left the area | left the city | left the town | left the region | left the district |
        crossed into | crossed the border | crossed over into | fled across | housed in |
        sheltered in | staying in shelters | in evacuation cent* | in displacement camps |
        hébergé* | dans des abris | centres d'hébergement | se refugi* | refugian | albergad* |
        alojad* en albergues | en albergues | abandon* la ciudad | abandon* el pueblo |
        abandon* la zona | abandon* sus pueblos | abandon* la región | ont dû quitter |
        contraint* de quitter | obligé* de quitter | forcé* de quitter | ont quitté leur* |
        tuvieron que salir | tuvieron que abandonar | huy* | مراكز إيواء | مراكز الإيواء |
        مراكز ايواء | لجأ* | اضطر* إلى مغادرة | غادر* منازلهم | غادروا |
        مغادرة منازلهم | مغادرة منازل* | ترك منازلهم | out of their villages |
        out of their towns | from their villages | quitt* leur* foyer* | quitt* leur* maison* |
        quitt* leur* village* | quitt* leur* domicile* | abandon* sus casas |
        abandon* sus viviendas | abandon* sus comunidades | salir de sus hogares |
        salir de sus casas | trouvé refuge | trouvé abri | abandon* sus hogares | mengungsi |
        pengungsi | terlantar | vertrieben | vertriebene | geflohen | flohen | flüchteten |
        displac* | idps | idp | fled | flee | flees | fleeing | forced to flee | uprooted |
        uprooting | driven from | driven out | forced from their homes | homeless | evacu* |
        from their homes | out of their homes | without shelter | without a roof | sheltering |
        taken shelter | taking shelter | sought shelter | seeking shelter | sought refuge |
        taken refuge | taking refuge | seeking refuge | lost their homes | déplacé* |
        déplacement* | fui | fuir | fuient | fuyant | sans abri | sans-abri | sans toit |
        chassés de chez eux | desplaz* | huyeron | huir | huido | huyendo | sin techo |
        sin hogar | abandonaron sus hogares | abandonar sus hogares | نزح* | نازح* | نزوح |
        تهجير | مهجر* | تشريد | مشرد* | فروا | فر | الفرار | فرار | إجلاء""",
    "killed": """tewas | meninggal | getötet | tote | starben | killed | killing | kills | dead |
        died | deaths | death toll | toll | fatalities | lost their lives | perished | lives |
        tués | tuées | tué | morts | mortes | décès | décédé* | ont péri | perdu la vie |
        muertos | muertas | muerto | falleci* | murieron | perdieron la vida | asesinad* |
        víctimas mortales | قتل* | مقتل | قتيل* | قتلى | استشهد* | شهيد* | شهداء | وفاة | وفيات |
        توفي* | حتفهم""",
    "injured": """terluka | luka | verletzt | verletzte | injur* | wounded | wounding | hurt |
        blessé* | blessure* | herid* | lesionad* | جرحى | جريح* | أصيب* | إصابة | إصابات |
        مصاب*""",
    "missing": """missing | unaccounted | disparu* | desaparecid* | مفقود*""",
    "affected": """touché | touchée | betroffen | affected | affecting | touchés | touchées |
        affectés | affectées | sinistré* | afecta* | damnificad* | متضرر* | تضرر*""",
    "in_need": """in need | need | needs | needing | require* | besoin | nécessit* | necesit* |
        necesidad | requieren | بحاجة | يحتاج* | حاجة""",
    "people": """orang | warga | jiwa | menschen | personen | zivilisten | einwohner | people |
        persons | person | civilians | civilian | residents | inhabitants | individuals |
        children | women | men | villagers | migrants | patients | others | more |
        palestinians | syrians | sudanese | gazans | afghans | rohingya | ukrainians |
        congolese | somalis | haitians | yemenis | lebanese | ethiopians | personnes | civils |
        habitants | enfants | femmes | hommes | individus | résidents | autres |
        personas | civiles | habitantes | niños | mujeres | hombres | individuos |
        residentes | migrantes | otras | otros | vecinos | شخص* | أشخاص | مدني* | مواطن* |
        فلسطيني* | سوري* | سوداني* | طفل* | أطفال | امرأة | نساء | سكان | ساكن | فرد |
        أفراد | نسمة | آخرين | آخرون""",
    "households": """keluarga | familien | haushalte | families | family | households | household |
        familles | famille | ménages | foyers | familias | hogares | أسرة | أسر | عائلة |
        عائلات""",
    "nonpeople": """troops | soldiers | fighters | militants | rebels | militia* | combatants |
        police* | officers | guards | gunmen | insurgents | jihadists | forces | mercenaries |
        dollars | euros | pounds | francs | dinars | shillings | rupees | usd | eur | dólares |
        libras | دولار* | يورو | years | year | months | month | weeks | week | days | day |
        hours | hour | minutes | decades | ans | années | mois | jours | semaines | heures |
        años | meses | días | semanas | horas | سنوات | سنة | أعوام | عاما | عام | أيام | يوما |
        ساعات | ساعة | أشهر | شهرا | شهور | أسابيع | km | kilometres | kilometers | miles |
        metres | meters | hectares | tonnes | tons | kg | litres | كيلومتر* | كلم | طن | homes |
        houses | buildings | shelters | tents | schools | hospitals | clinics | facilities |
        trucks | lorries | vehicles | villages | towns | sites | camps | rockets | missiles |
        strikes | airstrikes | attacks | shells | drones | cases | doses | meals | beds |
        maisons | logements | bâtiments | écoles | hôpitaux | camions | tentes | frappes |
        roquettes | soldats | combattants | casas | viviendas | edificios | escuelas |
        hospitales | camiones | aldeas | ataques | soldados | combatientes | منزل* | منازل |
        مبنى | مباني | مدارس | مدرسة | مستشفى* | مستشفيات | شاحنة | شاحنات | خيمة | خيام | قرية |
        قرى | غارات | غارة | صاروخ* | مقاتل* | جندي | جنود | عنصر* | مسلح*""",
    # a counted noun that says the people are displaced unless another word says what happened
    "refugees": "refugees | refugee | réfugiés | réfugiées | refugiados | refugiadas | لاجئ*",
    # a share of the number that follows: '70% of the 2.1 million residents'
    "share": """half | third | thirds | quarter | quarters | moitié | tiers | quart | mitad |
        tercio | tercios | cuarto | نصف | ثلث | ثلثي | ربع""",
    # a number said only as possible: 'could be forced to flee', 'at risk of displacement'
    "hypothetical": """could | might | may | would | risk | risks | at risk | threat* | pourrai* |
        pourrait | pourraient | risque* | menac* | podría* | podrían | riesgo | amenaz* |
        مهدد* | معرض* | خطر | يهدد""",
    # a number of an earlier time, of the same kind as the figure before it: 'down from 5.1 million'
    "compared": """down from | up from | compared with | compared to | as against | contre seulement |
        frente a | en comparación con | comparado con | مقارنة ب | مقارنة مع | مقابل |
        the total to | total to | the total number to | le total à | el total a |
        العدد الإجمالي إلى | المجموع إلى""",
    # a change between two values, of which the second is the figure now
    "change": """rose from | risen from | grew from | grown from | increased from | climbed from |
        jumped from | fell from | dropped from | declined from | went from | passé de | pasó de |
        aumentó de | ارتفع من""",
    # before a kind word, the words that make what follows a tally: 'the number of displaced'
    "count_of": """number of | numbers of | total of | nombre de | nombre d' | número de |
        cifra de | total de | عدد | إجمالي""",
    "percent": """% | ٪ | per cent | percent | pour cent | por ciento | por cien | بالمئة |
        بالمائة | في المئة | في المائة""",
    "month": """january | february | march | april | may | june | july | august | september |
        october | november | december | jan | feb | mar | apr | jun | jul | aug | sep | sept |
        oct | nov | dec | janvier | février | mars | avril | mai | juin | juillet | août |
        septembre | octobre | novembre | décembre | enero | febrero | marzo | abril | mayo |
        junio | julio | agosto | septiembre | octubre | noviembre | diciembre | يناير | فبراير |
        مارس | أبريل | مايو | يونيو | يوليو | أغسطس | سبتمبر | أكتوبر | نوفمبر | ديسمبر | كانون |
        شباط | آذار | نيسان | أيار | حزيران | تموز | آب | أيلول | تشرين""",
    # words just before a number that make it a code, an age or a price, not a count
    "veto_before": """aged | age | ages | rp | idr | rupiah | âgé* | âgée* | edad | resolution | résolution |
        resolución | article | artículo | route | highway | road | no | phase | level |
        category | chapter | page | covid | flight | code | grade | brigade | division |
        battalion | unit | $ | € | £ | ¥ | usd | eur | gbp | us | rs | inr | عمر* | العمر |
        القرار""",
    "return": """return* | returnee* | went home | go home | going home | rentr* | retour* |
        regres* | retorn* | volvieron | volver | عودة | عاد* | العائدين | عائد*""",
    "boundary": """while | whereas | but | although | though | mais | tandis | alors que | pero |
        mientras | aunque | بينما | لكن | غير أن""",
    # between a counted noun and the verb that says what happened to it
    "after": """داخليا | tenido | dû | wurden | sind | waren | haben | mussten | have | has | had |
        been | be | being | were | was | are | is | now | already | also | reportedly |
        recently | newly | just | so | far | all | estimated | believed | thought | said |
        reported | feared | likely | to | who | that | désormais | actuellement | ahora |
        حاليا | still | toujours | todavía | internally | forcibly | forced |
        compelled | made | left | become | became | ont | a | été | sont | est | étaient |
        avaient | se | déjà | contraint* | forcé* | obligé* | de | d' | à | han | ha | sido |
        fueron | fue | están | son | habían | vieron | tuvieron | que | obligad* | forzad* |
        también | قد | تم | أجبروا | أجبر | اضطروا | اضطر | على | إلى | of | whom | them""",
    # between a trigger and the number it counts: 'the number of displaced has risen to 50,000'
    # a preposition after a number closes the counted noun phrase: '20 wounded in strikes'
    "prep": """in | at | on | from | across | near | inside | during | after | since | into |
        dans | sur | vers | depuis | pendant | après | en | desde | durante | tras | hacia |
        dentro | في | خلال | بعد | منذ | داخل""",
    "tally": """stands | stood | rose | risen | climbed | reached | increased | jumped | grew |
        exceeds | exceeded | surpassed | tops | topped | bringing | brings | brought | dépasse |
        dépassé | dépassent | supera | superó | sobrepasa | تجاوز | يتجاوز | فاق | يفوق | تخطى |
        hit | numbered | totals | totalled | s'élève | élève | atteint | asciende | ascendió |
        alcanza | alcanzó | llega | llegó | ارتفع | بلغ | وصل | يبلغ | ليصل | ليبلغ""",
    "before": """ya | déjà | already | désormais | actuellement | ahora | حاليا | now | داخليا | the | a | an | of | to | at | has | have | had |
        is | was | were | been | stands | stood | rose | risen | climbed | reached | increased |
        jumped | grew | now | hit | number | numbered | numbers | people | persons | total |
        totals | some | le | la | les | l' | de | du | des | à | est | s'élève | élève |
        atteint | passé | el | los | las | del | al | asciende | ascendió | alcanza | alcanzó |
        llega | llegó | es | ha | cifra | se | eleva | elevó | إلى | عدد | ارتفع | بلغ | وصل |
        يبلغ | ليصل | ليبلغ | حصيلة | عن""",
}
QUALIFIERS: dict[str, str] = {
    "nearly": """nearly | close to | près de | près d' | cerca de | قرابة | ما يقرب من | ما يقارب |
        يقارب""",
    "about": """about | around | approximately | roughly | an estimated | estimated | environ |
        alrededor de | aproximadamente | نحو | حوالي | حوالى | زهاء""",
    "almost": "almost | presque | quasi | casi",
    "more than": """more than | upwards of | in excess of | plus de | plus d' | más de | أكثر من |
        ما يزيد عن | ما يزيد على | يزيد عن""",
    "over": "over | well over",
    "at least": "at least | au moins | al menos | por lo menos | ما لا يقل عن | لا يقل عن",
    "up to": "up to | as many as | jusqu'à | hasta | ما يصل إلى",
    "some": "some | quelque | quelques | unos | unas | algunos | algunas",
    "less than": "less than | fewer than | under | moins de | menos de | أقل من",
    "": "des | several | plusieurs | varios | varias | sebanyak | rund | etwa",  # part of the phrase, not a qualifier
}
